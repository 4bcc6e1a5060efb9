-- calendar.Load: release plans, change request windows and production
-- deployments. $production is the configured production environment
-- names, lower case.
-- param: production text[] ''
WITH plans AS (
    SELECT 'plan' AS kind, id, [service] AS services, version, coalesce(environment, 'production') AS environment,
           coalesce(window_start, planned_at) AS start_at,
           coalesce(window_end, coalesce(window_start, planned_at) + INTERVAL 1 HOUR) AS end_at,
           'planned' AS status, CAST(NULL AS VARCHAR) AS change_request, CAST(NULL AS VARCHAR) AS title
    FROM release_plans
),
requests AS (
    SELECT 'change_request', id, services, NULL, 'production', planned_start, planned_end, status, id, title
    FROM change_requests
    WHERE planned_start IS NOT NULL AND planned_end IS NOT NULL
      AND status IN ('submitted', 'approved', 'implemented')
),
deploys AS (
    SELECT 'deployment', id, [service], version, environment,
           least(coalesce(started_at, finished_at - INTERVAL 1 HOUR), finished_at), finished_at,
           status, change_request, NULL
    FROM deployments
    WHERE status IN ('success', 'failure') AND list_contains($production::VARCHAR[], lower(environment))
),
events AS (
    SELECT * FROM plans UNION ALL SELECT * FROM requests UNION ALL SELECT * FROM deploys
)
SELECT kind, id, services, coalesce(version, ''), lower(environment), start_at, greatest(start_at, end_at),
       status, coalesce(change_request, ''), coalesce(title, '')
FROM events
ORDER BY start_at, kind, id
