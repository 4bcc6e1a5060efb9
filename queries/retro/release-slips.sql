-- name: release-slips
-- description: Each release plan against the first successful production deployment of its service with the same version: slip in days (negative = early), on_time / late / missed (past its date, never shipped) / planned.
-- audience: retro
-- kind: query
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
WITH
-- Plans are selected by planned_at in [$from, $to). What shipped, when, and
-- whether on time (no later than the end of the planned window, planned_at
-- when the plan has no window) is fct_release_plans'; plans for
-- non-production environments are not tracked. Missed: past its date at
-- the time of asking and never shipped.
slips AS (
    SELECT p.plan_id, p.service, s.team, p.version, p.planned_at, p.shipped_at, p.slip_days,
           CASE WHEN p.shipped_at IS NULL AND p.planned_at < current_timestamp THEN 'missed'
                WHEN p.shipped_at IS NULL THEN 'planned'
                WHEN p.shipped_on_time THEN 'on_time'
                ELSE 'late' END AS status,
           CASE WHEN p.shipped_at IS NULL AND p.planned_at < current_timestamp
                THEN (epoch(current_timestamp) - epoch(p.planned_at)) / 86400.0 END AS days_overdue
    FROM fct_release_plans p
    LEFT JOIN dim_services s USING (service)
    WHERE p.is_production
      AND p.planned_at >= $from AND p.planned_at < $to
)
SELECT plan_id, service, team, version, planned_at, shipped_at, slip_days, status, days_overdue
FROM slips
ORDER BY planned_at, plan_id
