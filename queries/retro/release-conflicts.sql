-- name: release-conflicts
-- description: Pairs of releases (plans, change request windows, production deployments) sharing an environment in overlapping windows; "dependency" when one service depends on the other. Touching windows do not overlap. Freezes and release windows are checked by `shiplog calendar --conflicts`.
-- audience: retro
-- kind: query
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
WITH
-- A release without a window occupies one hour: a plan from planned_at, a
-- deployment up to finished_at when it has no started_at. A plan, the
-- deployment of the same service and version, and a change request with the
-- releases of the services it names are one release, not a conflict.
-- Production is what the models decide (fct_deployments.is_production,
-- fct_release_plans.is_production: the configured production names), and
-- every production environment counts as one, "production".
plans AS (
    SELECT 'plan' AS kind, plan_id AS id, [service] AS services, coalesce(version, '') AS version,
           CASE WHEN is_production THEN 'production' ELSE environment END AS environment,
           coalesce(window_start, planned_at) AS start_at,
           coalesce(window_end, coalesce(window_start, planned_at) + INTERVAL 1 HOUR) AS end_at,
           '' AS change_request
    FROM fct_release_plans
),
requests AS (
    SELECT 'change_request', change_request, services, '', 'production', planned_start, planned_end, change_request
    FROM fct_change_requests
    WHERE is_scheduled
),
deploys AS (
    SELECT 'deployment', deployment_id, [service], coalesce(version, ''), 'production',
           least(coalesce(started_at, finished_at - INTERVAL 1 HOUR), finished_at), finished_at,
           coalesce(change_request, '')
    FROM fct_deployments
    WHERE status IN ('success', 'failure') AND is_production
),
all_events AS (
    SELECT * FROM plans UNION ALL SELECT * FROM requests UNION ALL SELECT * FROM deploys
),
events AS (
    SELECT kind, id, services, version, environment,
           start_at, greatest(start_at, end_at) AS end_at, change_request
    FROM all_events
    WHERE (greatest(start_at, end_at) > $from OR (start_at = end_at AND start_at = $from))
      AND start_at < $to
),
dependencies AS (
    SELECT service, unnest(depends_on) AS dependency FROM dim_services
),
pairs AS (
    SELECT a.*, b.kind AS other_kind, b.id AS other_id, b.services AS other_services,
           b.version AS other_version, b.start_at AS other_start, b.end_at AS other_end,
           b.change_request AS other_change_request
    FROM events a
    JOIN events b
      ON a.environment = b.environment
     AND (a.start_at < b.start_at
          OR a.start_at = b.start_at AND (a.kind < b.kind OR a.kind = b.kind AND a.id < b.id))
     AND ((a.start_at < b.end_at AND b.start_at < a.end_at)
          OR (a.start_at = a.end_at AND a.start_at >= b.start_at AND a.start_at < b.end_at)
          OR (b.start_at = b.end_at AND b.start_at >= a.start_at AND b.start_at < a.end_at))
),
conflicts AS (
    SELECT p.*,
           EXISTS (
               SELECT 1 FROM dependencies d
               WHERE (list_contains(p.services, d.service) AND list_contains(p.other_services, d.dependency))
                  OR (list_contains(p.other_services, d.service) AND list_contains(p.services, d.dependency))
           ) AS interdependent
    FROM pairs p
    WHERE NOT CASE
        WHEN p.kind = 'change_request' AND p.other_kind = 'change_request' THEN p.id = p.other_id
        WHEN p.kind = 'change_request'
            THEN p.other_change_request = p.id OR len(list_intersect(p.services, p.other_services)) > 0
        WHEN p.other_kind = 'change_request'
            THEN p.change_request = p.other_id OR len(list_intersect(p.services, p.other_services)) > 0
        ELSE p.version <> '' AND p.version = p.other_version AND len(list_intersect(p.services, p.other_services)) > 0
    END
)
SELECT CASE WHEN interdependent THEN 'dependency' ELSE 'environment' END AS conflict,
       id AS event_id,
       other_id,
       greatest(start_at, other_start) AS overlap_start,
       least(end_at, other_end) AS overlap_end,
       environment,
       kind AS event_kind,
       array_to_string(services, ',') AS services,
       nullif(version, '') AS version,
       other_kind,
       array_to_string(other_services, ',') AS other_services,
       nullif(other_version, '') AS other_version
FROM conflicts
ORDER BY overlap_start, conflict, event_kind, event_id
