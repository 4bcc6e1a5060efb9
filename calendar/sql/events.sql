-- calendar.Load: release plans, change request windows and production
-- deployments from the marts, which decide what is production
-- (is_production: the configured production names, as keys) and name every
-- production environment "production".
WITH plans AS (
    SELECT 'plan' AS kind, plan_id AS id, [service] AS services, version,
           CASE WHEN is_production THEN 'production' ELSE environment END AS environment,
           is_production,
           coalesce(window_start, planned_at) AS start_at,
           coalesce(window_end, coalesce(window_start, planned_at) + INTERVAL 1 HOUR) AS end_at,
           'planned' AS status, CAST(NULL AS VARCHAR) AS change_request, CAST(NULL AS VARCHAR) AS title,
           CAST(NULL AS VARCHAR[]) AS freezes, false AS freezes_decided
    FROM fct_release_plans
),
requests AS (
    SELECT 'change_request', change_request, services, NULL, 'production', true, planned_start, planned_end, status, change_request, title,
           NULL, false
    FROM fct_change_requests
    WHERE is_scheduled
),
deploys AS (
    SELECT 'deployment', deployment_id, [service], version, 'production', true,
           least(coalesce(started_at, finished_at - INTERVAL 1 HOUR), finished_at), finished_at,
           status, change_request, NULL, freezes, true
    FROM fct_deployments
    WHERE status IN ('success', 'failure') AND is_production
),
events AS (
    SELECT * FROM plans UNION ALL SELECT * FROM requests UNION ALL SELECT * FROM deploys
)
SELECT kind, id, services, coalesce(version, ''), environment, is_production, start_at, greatest(start_at, end_at),
       status, coalesce(change_request, ''), coalesce(title, ''), coalesce(freezes, []::VARCHAR[]), freezes_decided
FROM events
ORDER BY start_at, kind, id
