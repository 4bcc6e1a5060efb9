-- GitHub deployments, releases and deploy workflow runs → canonical deployments.
-- Reads the raw_github_* tables and the settings the source writes into
-- temporary tables before running this file:
--   _github_repo_services(repo, service, pos)  services per repository, pos 0 first
--   _github_settings(production_name, production_environments VARCHAR[], env_pattern)
-- One GitHub deployment = one canonical deployment once finished: its outcome is
-- its newest status other than `inactive` (by created_at, then id); success →
-- success, failure or error → failure; anything else (queued, pending,
-- in_progress) or no status at all → not finished, left out.
-- The rows of source github are replaced as a whole: a mapping rule that
-- changed applies to every row.
DELETE FROM deployments WHERE source = 'github';

INSERT INTO deployments (id, service, environment, finished_at, started_at, status, version,
                         commit_sha, triggered_by, url, extra, source)
WITH settings AS (
    SELECT * FROM _github_settings
),
repo_primary AS (
    SELECT repo, service FROM _github_repo_services WHERE pos = 0
),
raw_deployments AS (
    SELECT repo, id, payload FROM raw_github_deployments
),
statuses AS (
    SELECT repo,
           deployment_id,
           id                                          AS status_id,
           (payload->>'$.state')                         AS state,
           CAST(payload->>'$.created_at' AS TIMESTAMPTZ) AS created_at,
           coalesce(nullif(payload->>'$.log_url', ''), nullif(payload->>'$.target_url', ''),
                    nullif(payload->>'$.environment_url', '')) AS url
    FROM raw_github_deployment_statuses
),
outcome AS (
    SELECT *
    FROM statuses
    WHERE state <> 'inactive'
    QUALIFY row_number() OVER (PARTITION BY repo, deployment_id ORDER BY created_at DESC, status_id DESC) = 1
),
github_deployments AS (
    SELECT d.repo || '/deployments/' || d.id                          AS id,
           coalesce(
               CASE WHEN (SELECT count(*) FROM _github_repo_services s
                          WHERE s.repo = d.repo AND s.service = (d.payload->>'$.payload.service')) > 0
                    THEN (d.payload->>'$.payload.service') END,
               rp.service, split_part(d.repo, '/', 2))                AS service,
           (d.payload->>'$.environment')                                AS environment_name,
           o.created_at                                               AS finished_at,
           CAST((d.payload->>'$.created_at') AS TIMESTAMPTZ)            AS started_at,
           CASE o.state WHEN 'success' THEN 'success' ELSE 'failure' END AS status,
           CASE WHEN (d.payload->>'$.ref') = (d.payload->>'$.sha') THEN NULL ELSE (d.payload->>'$.ref') END AS version,
           (d.payload->>'$.sha')                                        AS commit_sha,
           (d.payload->>'$.creator.login')                              AS triggered_by,
           o.url                                                      AS url,
           json_object('github_id', d.id, 'kind', 'deployment', 'task', (d.payload->>'$.task'),
                       'description', (d.payload->>'$.description'), 'final_state', o.state) AS extra
    FROM raw_deployments d
    JOIN outcome o ON o.repo = d.repo AND o.deployment_id = d.id
    LEFT JOIN repo_primary rp ON rp.repo = d.repo
    WHERE o.state IN ('success', 'failure', 'error')
),
github_releases AS (
    -- Published, non-draft, non-prerelease releases of repositories that ship
    -- by release.
    SELECT r.repo || '@' || ((r.payload->>'$.tag_name'))                AS id,
           coalesce(rp.service, split_part(r.repo, '/', 2))           AS service,
           NULL                                                       AS environment_name,
           CAST((r.payload->>'$.published_at') AS TIMESTAMPTZ)          AS finished_at,
           CAST((r.payload->>'$.created_at') AS TIMESTAMPTZ)            AS started_at,
           'success'                                                  AS status,
           (r.payload->>'$.tag_name')                                   AS version,
           CASE WHEN regexp_full_match(coalesce((r.payload->>'$.target_commitish'), ''), '[0-9a-f]{40}')
                THEN (r.payload->>'$.target_commitish') END             AS commit_sha,
           (r.payload->>'$.author.login')                               AS triggered_by,
           (r.payload->>'$.html_url')                                   AS url,
           json_object('github_id', r.id, 'kind', 'release', 'name', (r.payload->>'$.name')) AS extra
    FROM raw_github_releases r
    LEFT JOIN repo_primary rp ON rp.repo = r.repo
    WHERE r.repo IN (SELECT repo FROM _github_release_repos)
      AND NOT CAST((r.payload->>'$.draft') AS BOOLEAN)
      AND NOT CAST((r.payload->>'$.prerelease') AS BOOLEAN)
      AND (r.payload->>'$.published_at') IS NOT NULL
),
github_runs AS (
    -- Completed runs of the deploy workflows; success → success, failure or
    -- timed_out → failure, cancelled → cancelled; skipped, neutral, stale and
    -- action_required runs deployed nothing and are left out.
    SELECT w.repo || '/actions/runs/' || w.id                          AS id,
           coalesce(rp.service, split_part(w.repo, '/', 2))           AS service,
           NULL                                                       AS environment_name,
           CAST((w.payload->>'$.updated_at') AS TIMESTAMPTZ)            AS finished_at,
           CAST(coalesce((w.payload->>'$.run_started_at'), (w.payload->>'$.created_at')) AS TIMESTAMPTZ) AS started_at,
           CASE (w.payload->>'$.conclusion') WHEN 'success' THEN 'success'
                WHEN 'cancelled' THEN 'cancelled' ELSE 'failure' END  AS status,
           NULL                                                       AS version,
           (w.payload->>'$.head_sha')                                   AS commit_sha,
           coalesce((w.payload->>'$.triggering_actor.login'), (w.payload->>'$.actor.login')) AS triggered_by,
           (w.payload->>'$.html_url')                                   AS url,
           json_object('github_id', w.id, 'kind', 'workflow_run', 'workflow', (w.payload->>'$.name'),
                       'run_attempt', CAST((w.payload->>'$.run_attempt') AS BIGINT),
                       'conclusion', (w.payload->>'$.conclusion'), 'head_branch', (w.payload->>'$.head_branch')) AS extra
    FROM raw_github_workflow_runs w
    LEFT JOIN repo_primary rp ON rp.repo = w.repo
    WHERE (w.payload->>'$.status') = 'completed'
      AND (w.payload->>'$.conclusion') IN ('success', 'failure', 'timed_out', 'cancelled')
),
all_deployments AS (
    SELECT * FROM github_deployments
    UNION ALL SELECT * FROM github_releases
    UNION ALL SELECT * FROM github_runs
),
final AS (
    SELECT a.*,
           CASE
               WHEN a.environment_name IS NULL THEN s.production_name
               WHEN list_contains(s.production_environments, a.environment_name) THEN s.production_name
               ELSE a.environment_name
           END AS environment
    FROM all_deployments a, settings s
    WHERE a.environment_name IS NULL
       OR s.env_pattern = ''
       OR regexp_matches(a.environment_name, s.env_pattern)
)
SELECT id, service, environment, finished_at, started_at, status, version, commit_sha,
       triggered_by, url,
       CASE WHEN environment_name IS NOT NULL AND environment_name <> environment
            THEN json_merge_patch(extra, json_object('github_environment', environment_name))
            ELSE extra END,
       'github'
FROM final
