-- name: environment-drift
-- description: Per service, the versions now in staging and production (latest successful deployment), commits staging is ahead of and behind production (via the commit graph; NULL when the commits are not known), days apart (staging - production), and whether production runs a version that never passed through staging.
-- audience: retro
-- kind: query
-- param: service text ''
WITH RECURSIVE
-- Production and staging are the configured environment names
-- (metrics.production_environments, calendar.staging_environments) as the
-- models decide them (fct_deployments.is_production, is_staging).
-- `shiplog drift` answers the same and counts commits in memory, which is
-- faster on deep histories.
deployed AS (
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
prod AS (SELECT * FROM current WHERE is_production),
stg AS (SELECT * FROM current WHERE is_staging),
pairs AS (
    SELECT s.service,
           p.id AS production_id, p.version AS production_version, p.commit_sha AS production_commit,
           p.finished_at AS production_at,
           g.id AS staging_id, g.version AS staging_version, g.commit_sha AS staging_commit,
           g.finished_at AS staging_at
    FROM (SELECT DISTINCT service FROM deployed WHERE $service = '' OR service = lower(trim($service))) s
    LEFT JOIN prod p USING (service)
    LEFT JOIN stg g USING (service)
    WHERE p.id IS NOT NULL OR g.id IS NOT NULL
),
-- materialized: the recursive walk below joining an unnest() inlined into
-- it reached a different, partial set of commits from run to run
edges AS MATERIALIZED (
    SELECT DISTINCT sha, unnest(parents) AS parent FROM dim_commits
),
starts AS (
    SELECT service, 's' AS side, staging_commit AS sha FROM pairs
    WHERE staging_commit IN (SELECT sha FROM dim_commits) AND production_commit IN (SELECT sha FROM dim_commits)
    UNION ALL
    SELECT service, 'p', production_commit FROM pairs
    WHERE staging_commit IN (SELECT sha FROM dim_commits) AND production_commit IN (SELECT sha FROM dim_commits)
),
reach (service, side, sha) AS (
    SELECT service, side, sha FROM starts
    UNION
    SELECT r.service, r.side, e.parent FROM reach r JOIN edges e ON e.sha = r.sha
),
sides AS (
    SELECT service, sha, list(DISTINCT side) AS sides FROM reach GROUP BY service, sha
),
counts AS (
    SELECT service,
           count(*) FILTER (WHERE NOT list_contains(sides, 'p')) AS commits_ahead,
           count(*) FILTER (WHERE NOT list_contains(sides, 's')) AS commits_behind
    FROM sides GROUP BY service
)
SELECT p.service,
       p.production_version, p.production_commit, p.production_at,
       p.staging_version, p.staging_commit, p.staging_at,
       c.commits_ahead, c.commits_behind,
       (epoch(p.staging_at) - epoch(p.production_at)) / 86400.0 AS days_apart,
       CASE WHEN p.production_id IS NULL OR (p.production_version IS NULL AND p.production_commit IS NULL) THEN NULL
            ELSE NOT EXISTS (
                SELECT 1 FROM deployed x
                WHERE x.service = p.service AND x.is_staging AND x.finished_at <= p.production_at
                  AND (x.version = p.production_version OR x.commit_sha = p.production_commit))
       END AS production_unstaged
FROM pairs p
LEFT JOIN counts c USING (service)
ORDER BY p.service
