-- GitLab deployments (and, for projects without any, deploy jobs) →
-- canonical deployments.
-- Status of a deployment: success → success, failed → failure, canceled →
-- cancelled. created, running and blocked are in flight: left out until a
-- later sync (or webhook) brings the final status; skipped deployed nothing.
-- Environment: names in metrics.production_environments or
-- deployments.production_environments (trimmed, any case), and any
-- environment of GitLab's production tier, are written as the production
-- name (the first of metrics.production_environments) with the original in
-- extra.gitlab_environment; other names are kept as they are.
-- Deploy jobs: in projects with no deployment records, finished jobs named in
-- pipelines.deploy_jobs, or whose environment (pipeline webhook builds carry
-- it) is production, are production deployments: success → success, failed →
-- failure, canceled → cancelled.
INSERT INTO deployments (id, service, environment, finished_at, started_at, status, version,
                         commit_sha, triggered_by, url, extra, source)
WITH settings AS (
    SELECT * FROM _gitlab_settings
),
statuses AS (
    SELECT * FROM (VALUES ('success', 'success'), ('failed', 'failure'), ('canceled', 'cancelled')) s(gitlab, canonical)
),
gitlab_deployments AS (
    SELECT d.project || '/deployments/' || d.id                        AS id,
           d.project,
           d.environment_name,
           lower(coalesce(d.tier, '')) = 'production'                  AS production_tier,
           d.finished_at,
           d.started_at,
           s.canonical                                                 AS status,
           CASE WHEN d.ref = d.sha THEN NULL ELSE d.ref END            AS version,
           d.sha                                                       AS commit_sha,
           d.username                                                  AS triggered_by,
           d.url,
           json_object('gitlab_id', d.id, 'kind', 'deployment', 'gitlab_status', d.status,
                       'job_id', d.job_id, 'job_name', d.job_name, 'pipeline_id', d.pipeline_id,
                       'origin', d.origin)                             AS extra
    FROM stg_gitlab__deployments d
    JOIN statuses s ON s.gitlab = d.status
    WHERE d.finished_at IS NOT NULL
),
deploy_jobs AS (
    SELECT j.project || '/jobs/' || j.id                               AS id,
           j.project,
           coalesce(j.environment_name, settings.production_name)      AS environment_name,
           true                                                        AS production_tier,
           j.finished_at,
           coalesce(j.started_at, j.created_at)                        AS started_at,
           s.canonical                                                 AS status,
           CASE WHEN j.ref = j.sha THEN NULL ELSE j.ref END            AS version,
           j.sha                                                       AS commit_sha,
           j.username                                                  AS triggered_by,
           j.url,
           json_object('gitlab_id', j.id, 'kind', 'job', 'job_name', j.name, 'gitlab_status', j.status,
                       'pipeline_id', j.pipeline_id, 'origin', j.origin) AS extra
    FROM stg_gitlab__jobs j
    JOIN statuses s ON s.gitlab = j.status
    CROSS JOIN settings
    WHERE j.finished_at IS NOT NULL
      AND (list_contains(settings.deploy_jobs, j.name)
           OR list_contains(settings.production_environments, lower(trim(j.environment_name)))
           OR lower(coalesce(j.tier, '')) = 'production')
      AND NOT EXISTS (SELECT 1 FROM raw_gitlab_deployments d WHERE d.project = j.project)
),
all_deployments AS (
    SELECT * FROM gitlab_deployments
    UNION ALL
    SELECT * FROM deploy_jobs
),
final AS (
    SELECT a.*,
           CASE WHEN a.production_tier OR list_contains(st.production_environments, lower(trim(a.environment_name)))
                THEN st.production_name ELSE a.environment_name END AS environment
    FROM all_deployments a, settings st
    WHERE a.environment_name IS NOT NULL
)
SELECT id, gitlab_service(project), environment, finished_at, started_at, status, version, commit_sha,
       triggered_by, url,
       CASE WHEN environment_name <> environment
            THEN json_merge_patch(extra, json_object('gitlab_environment', environment_name))
            ELSE extra END,
       'gitlab'
FROM final;
