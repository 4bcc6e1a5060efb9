-- calendar.SlipSummary: the slip distribution per team over shipped plans:
-- median and p90 (continuous), and the share of shipped releases that
-- were on time; missed counts plans past their date and never shipped.
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
-- param: now timestamp null
-- param: production text[] ''
-- param: services text[] ''
-- $production is the configured production environment names, lower
-- case; $services selects services (empty: all). The head (plans, owners,
-- shipped, slips) is the same in the two slip files: each release plan
-- planned in [$from, $to) matched to the first successful production
-- deployment of its service with the same version; slip_days = shipped -
-- planned in days (negative: early). A release is on time when it shipped
-- no later than the end of its planned window (planned_at when it has no
-- window); a plan not shipped is missed once planned_at is before $now,
-- else still planned. Plans for other environments are not tracked.
WITH plans AS (
    SELECT id, service, version, planned_at, window_end
    FROM release_plans
    WHERE planned_at >= $from AND planned_at < $to
      AND list_contains($production::VARCHAR[], lower(coalesce(environment, 'production')))
),
owners AS (
    SELECT id AS service, any_value(team) AS team FROM services GROUP BY id
),
shipped AS (
    SELECT service, version, min(finished_at) AS shipped_at
    FROM deployments
    WHERE status = 'success' AND version IS NOT NULL
      AND list_contains($production::VARCHAR[], lower(environment))
    GROUP BY service, version
),
slips AS (
    SELECT p.id AS plan_id, p.service, o.team, p.version, p.planned_at, s.shipped_at,
           (epoch(s.shipped_at) - epoch(p.planned_at)) / 86400.0 AS slip_days,
           CASE WHEN s.shipped_at IS NULL AND p.planned_at < $now THEN 'missed'
                WHEN s.shipped_at IS NULL THEN 'planned'
                WHEN s.shipped_at <= coalesce(p.window_end, p.planned_at) THEN 'on_time'
                ELSE 'late' END AS status,
           CASE WHEN s.shipped_at IS NULL AND p.planned_at < $now
                THEN (epoch($now) - epoch(p.planned_at)) / 86400.0 END AS days_overdue
    FROM plans p
    LEFT JOIN owners o USING (service)
    LEFT JOIN shipped s USING (service, version)
)
SELECT team, count(*) AS plans, count(shipped_at) AS shipped,
       quantile_cont(slip_days, 0.5) AS slip_median_days,
       quantile_cont(slip_days, 0.9) AS slip_p90_days,
       count(*) FILTER (WHERE status = 'on_time') / nullif(count(shipped_at), 0) AS on_time_share,
       count(*) FILTER (WHERE status = 'missed') AS missed
FROM slips
WHERE len($services::VARCHAR[]) = 0 OR list_contains($services::VARCHAR[], service)
GROUP BY team
ORDER BY team NULLS LAST
