-- drift.Dependencies: each production service's dependencies, the version
-- it was tested with and the one it runs with now.
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
),
edges AS (
    SELECT DISTINCT service, unnest(depends_on) AS dependency
    FROM dim_services
),
prod AS (SELECT * FROM current WHERE is_production),
tested AS (
    -- the latest staging deployment of the production version, before it reached production
    SELECT p.service, p.version, max(x.finished_at) AS tested_at
    FROM prod p
    JOIN deployed x ON x.service = p.service AND x.is_staging
                   AND x.finished_at <= p.finished_at AND x.version = p.version
    GROUP BY p.service, p.version
),
first_seen AS (
    SELECT service, version, min(finished_at) AS first_at FROM deployed WHERE version IS NOT NULL GROUP BY ALL
),
pairs AS (
    SELECT e.service, p.version, e.dependency, t.tested_at,
           (SELECT x.version FROM deployed x
             WHERE x.service = e.dependency AND x.is_staging AND x.finished_at <= t.tested_at
             ORDER BY x.finished_at DESC, x.id DESC LIMIT 1) AS staging_then,
           (SELECT x.version FROM deployed x
             WHERE x.service = e.dependency AND x.is_production AND x.finished_at <= t.tested_at
             ORDER BY x.finished_at DESC, x.id DESC LIMIT 1) AS production_then,
           dp.version AS running_with
    FROM edges e
    JOIN selected USING (service)
    JOIN prod p ON p.service = e.service
    LEFT JOIN tested t ON t.service = e.service AND t.version = p.version
    LEFT JOIN prod dp ON dp.service = e.dependency
)
SELECT q.service, q.version, q.dependency, q.tested_at,
       coalesce(q.staging_then, q.production_then) AS tested_with,
       CASE WHEN q.staging_then IS NOT NULL THEN 'staging'
            WHEN q.production_then IS NOT NULL THEN 'production' END AS tested_with_environment,
       q.running_with,
       CASE WHEN coalesce(q.staging_then, q.production_then) IS NULL OR q.running_with IS NULL THEN NULL
            ELSE r.first_at < w.first_at END AS dependency_behind
FROM pairs q
LEFT JOIN first_seen w ON w.service = q.dependency AND w.version = coalesce(q.staging_then, q.production_then)
LEFT JOIN first_seen r ON r.service = q.dependency AND r.version = q.running_with
ORDER BY q.service, q.dependency
