-- name: release-slips
-- description: Each release plan against the first successful production deployment of its service with the same version: slip in days (negative = early), on_time / late / missed (past its date, never shipped) / planned.
-- audience: retro
-- kind: query
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
WITH
-- Plans are selected by planned_at in [$from, $to). On time: shipped no
-- later than the end of the planned window (planned_at when the plan has no
-- window). Plans for non-production environments are not tracked.
-- Production is the environments named production or prod.
plans AS (
    SELECT id, service, version, planned_at, window_end
    FROM release_plans
    WHERE planned_at >= $from AND planned_at < $to
      AND lower(coalesce(environment, 'production')) IN ('production', 'prod')
),
owners AS (
    SELECT id AS service, any_value(team) AS team FROM services GROUP BY id
),
shipped AS (
    SELECT service, version, min(finished_at) AS shipped_at
    FROM deployments
    WHERE status = 'success' AND version IS NOT NULL
      AND lower(environment) IN ('production', 'prod')
    GROUP BY service, version
),
slips AS (
    SELECT p.id AS plan_id, p.service, o.team, p.version, p.planned_at, s.shipped_at,
           (epoch(s.shipped_at) - epoch(p.planned_at)) / 86400.0 AS slip_days,
           CASE WHEN s.shipped_at IS NULL AND p.planned_at < current_timestamp THEN 'missed'
                WHEN s.shipped_at IS NULL THEN 'planned'
                WHEN s.shipped_at <= coalesce(p.window_end, p.planned_at) THEN 'on_time'
                ELSE 'late' END AS status,
           CASE WHEN s.shipped_at IS NULL AND p.planned_at < current_timestamp
                THEN (epoch(current_timestamp) - epoch(p.planned_at)) / 86400.0 END AS days_overdue
    FROM plans p
    LEFT JOIN owners o USING (service)
    LEFT JOIN shipped s USING (service, version)
)
SELECT plan_id, service, team, version, planned_at, shipped_at, slip_days, status, days_overdue
FROM slips
ORDER BY planned_at, plan_id
