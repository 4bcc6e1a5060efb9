-- calendar.Slips: each plan in range with its actual production release and slip.
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
-- param: now timestamp null
-- param: services text[] ''
-- Each production release plan planned in [$from, $to) with what shipped
-- it, from fct_release_plans (the first successful production deployment
-- of its service with the same version; slip_days = shipped − planned in
-- days, negative: early; on time when it shipped no later than the end of
-- its planned window, planned_at when it has no window). A plan not shipped
-- is missed once planned_at is before $now, else still planned. $services
-- selects services by key (empty: all). The head (slips) is the same in
-- the two slip files.
WITH slips AS (
    SELECT p.plan_id, p.service, o.team, p.version, p.planned_at, p.window_start, p.window_end,
           p.shipped_at, p.slip_days,
           CASE WHEN p.shipped_at IS NULL AND p.planned_at < $now THEN 'missed'
                WHEN p.shipped_at IS NULL THEN 'planned'
                WHEN p.shipped_on_time THEN 'on_time'
                ELSE 'late' END AS status,
           CASE WHEN p.shipped_at IS NULL AND p.planned_at < $now
                THEN (epoch($now) - epoch(p.planned_at)) / 86400.0 END AS days_overdue,
           CASE WHEN p.window_end IS NOT NULL THEN 'on time when shipped by the window end'
                ELSE 'on time when shipped by the planned time (no window)' END AS rule
    FROM fct_release_plans p
    LEFT JOIN dim_services o USING (service)
    WHERE p.is_production AND p.planned_at >= $from AND p.planned_at < $to
)
SELECT plan_id, service, team, version, planned_at, window_start, window_end, shipped_at, slip_days, status, rule, days_overdue
FROM slips
WHERE len($services::VARCHAR[]) = 0 OR list_contains(list_transform($services::VARCHAR[], lambda x: lower(trim(x))), service)
ORDER BY planned_at, plan_id
