-- drift.Environments: the current deployment of each service per environment.
-- param: services text[] ''
-- Environments are as fct_deployments decides them (is_production,
-- is_staging); $services selects services by key (empty: all). The head
-- (deployed, current, selected) is the same in the three drift files.
WITH deployed AS (
    SELECT deployment_id AS id, service,
           CASE WHEN is_production THEN 'production'
                WHEN is_staging THEN 'staging'
                ELSE environment END AS environment,
           is_production, is_staging,
           version, commit_sha, finished_at
    FROM fct_deployments
    WHERE status = 'success'
),
current AS (
    SELECT * FROM deployed
    QUALIFY row_number() OVER (PARTITION BY service, environment ORDER BY finished_at DESC, id DESC) = 1
),
selected AS (
    SELECT DISTINCT service FROM deployed
    WHERE len($services::VARCHAR[]) = 0 OR list_contains(list_transform($services::VARCHAR[], lambda x: lower(trim(x))), service)
)
SELECT service, environment, version, commit_sha, finished_at AS deployed_at, id AS deployment_id
FROM current JOIN selected USING (service)
ORDER BY service, environment
