-- drift.Services: staging against production per service (commit counts are
-- added from the commit graph in Go).
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
prod AS (SELECT * FROM current WHERE is_production),
stg AS (SELECT * FROM current WHERE is_staging)
SELECT s.service,
       p.version AS production_version, p.commit_sha AS production_commit, p.finished_at AS production_at,
       g.version AS staging_version, g.commit_sha AS staging_commit, g.finished_at AS staging_at,
       (epoch(g.finished_at) - epoch(p.finished_at)) / 86400.0 AS days_apart,
       CASE WHEN p.id IS NULL OR (p.version IS NULL AND p.commit_sha IS NULL) THEN NULL
            ELSE NOT EXISTS (
                SELECT 1 FROM deployed x
                WHERE x.service = p.service AND x.is_staging AND x.finished_at <= p.finished_at
                  AND (x.version = p.version OR x.commit_sha = p.commit_sha))
       END AS production_unstaged
FROM selected s
LEFT JOIN prod p USING (service)
LEFT JOIN stg g USING (service)
WHERE p.id IS NOT NULL OR g.id IS NOT NULL
ORDER BY s.service
