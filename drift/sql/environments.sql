-- drift.Environments: the current deployment of each service per environment.
-- param: production text[] ''
-- param: staging text[] ''
-- param: services text[] ''
-- $production and $staging are the configured environment names, lower
-- case; $services selects services (empty: all). The head (deployed,
-- current, selected) is the same in the three drift files.
WITH deployed AS (
    SELECT id, service,
           CASE WHEN list_contains($production::VARCHAR[], lower(environment)) THEN 'production'
                WHEN list_contains($staging::VARCHAR[], lower(environment)) THEN 'staging'
                ELSE lower(environment) END AS environment,
           version, commit_sha, finished_at
    FROM deployments
    WHERE status = 'success'
),
current AS (
    SELECT * FROM deployed
    QUALIFY row_number() OVER (PARTITION BY service, environment ORDER BY finished_at DESC, id DESC) = 1
),
selected AS (
    SELECT DISTINCT service FROM deployed
    WHERE len($services::VARCHAR[]) = 0 OR list_contains($services::VARCHAR[], service)
)
SELECT service, environment, version, commit_sha, finished_at AS deployed_at, id AS deployment_id
FROM current JOIN selected USING (service)
ORDER BY service, environment
