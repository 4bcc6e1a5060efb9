-- Staging of the GitLab raw tables: the only SQL that reads their payloads.
-- Each view renames and casts one raw table and reads both shapes a row can
-- have (origin 'api': the REST object; origin 'webhook': what a webhook
-- delivery carries). TEMP: they live on the mapping connection only.

-- gitlab_ts: a GitLab time as TIMESTAMPTZ. The REST API writes ISO 8601
-- ("2016-08-11T07:36:40.222Z", "2012-09-20T11:50:22+03:00"); webhooks also
-- write "2016-08-12 15:23:28 UTC" and "2021-04-28 21:50:00 +0200".
CREATE OR REPLACE TEMP MACRO gitlab_ts(s) AS
    CASE WHEN s IS NULL OR trim(s) = '' THEN NULL
         ELSE coalesce(
             try_cast(s AS TIMESTAMPTZ),
             timezone('UTC', try_strptime(s, '%Y-%m-%d %H:%M:%S UTC')),
             try_strptime(s, '%Y-%m-%d %H:%M:%S %z'))
    END;

-- gitlab_is_bot: GitLab's project, group and service-account bot users
-- (project_12_bot, group_3_bot_5f2a…) and the configured bot_users.
CREATE OR REPLACE TEMP MACRO gitlab_is_bot(login) AS
    regexp_full_match(coalesce(login, ''), '(project|group|service_account)_[0-9]+_bot(_[0-9a-f]+)?')
    OR list_contains((SELECT bot_users FROM _gitlab_settings), lower(login));

-- gitlab_service: a project's service (services:, else its last segment).
CREATE OR REPLACE TEMP MACRO gitlab_service(p) AS
    coalesce((SELECT service FROM _gitlab_services s WHERE s.project = lower(p)), regexp_extract(p, '[^/]+$'));

-- Merged merge requests. A webhook row (object_attributes of a merge
-- request event) has no author user name and no merged_at: merged_at is
-- its updated_at, the author is unknown until the next sync.
CREATE OR REPLACE TEMP VIEW stg_gitlab__merge_requests AS
SELECT project,
       iid,
       origin,
       payload->>'$.title'                                            AS title,
       CASE WHEN origin = 'api' THEN payload->>'$.author.username' END AS author,
       gitlab_ts(payload->>'$.created_at')                            AS opened_at,
       gitlab_ts(coalesce(payload->>'$.merged_at',
           CASE WHEN origin = 'webhook' THEN payload->>'$.updated_at' END)) AS merged_at,
       payload->>'$.state'                                            AS state,
       payload->>'$.target_branch'                                    AS target_branch,
       payload->>'$.source_branch'                                    AS source_branch,
       nullif(payload->>'$.merge_commit_sha', '')                     AS merge_commit_sha,
       nullif(payload->>'$.squash_commit_sha', '')                    AS squash_commit_sha,
       coalesce(payload->>'$.web_url', payload->>'$.url')             AS url,
       CASE WHEN origin = 'api' THEN json_extract_string(payload, '$.labels[*]')
            ELSE json_extract_string(payload, '$.labels[*].title') END AS labels
FROM raw_gitlab_merge_requests;

-- Review acts by people other than the merge request's author, who are not
-- bots: comments (notes that are not system notes) and approvals. An
-- approval's time is approved_at, or (older GitLab) the system note
-- "approved this merge request" by the same person.
CREATE OR REPLACE TEMP VIEW stg_gitlab__reviews AS
WITH notes AS (
    SELECT project, iid,
           CAST(payload->>'$.author.username' AS VARCHAR)     AS username,
           gitlab_ts(payload->>'$.created_at')                AS acted_at,
           coalesce(CAST(payload->>'$.system' AS BOOLEAN), false) AS is_system,
           coalesce(payload->>'$.body', '')                   AS body
    FROM raw_gitlab_mr_notes
),
approvers AS (
    SELECT project, iid, unnest(json_extract(payload, '$.approved_by[*]')) AS a
    FROM raw_gitlab_mr_approvals
),
approvals AS (
    SELECT a.project, a.iid,
           CAST(a.a->>'$.user.username' AS VARCHAR) AS username,
           coalesce(gitlab_ts(a.a->>'$.approved_at'),
               (SELECT min(n.acted_at) FROM notes n
                WHERE n.project = a.project AND n.iid = a.iid AND n.is_system
                  AND n.username = CAST(a.a->>'$.user.username' AS VARCHAR)
                  AND starts_with(n.body, 'approved this merge request'))) AS acted_at
    FROM approvers a
),
acts AS (
    SELECT project, iid, username, acted_at, 'note' AS kind FROM notes WHERE NOT is_system
    UNION ALL
    SELECT project, iid, username, acted_at, 'approval' AS kind FROM approvals
)
SELECT a.project, a.iid, a.username, a.acted_at, a.kind
FROM acts a
JOIN stg_gitlab__merge_requests m ON m.project = a.project AND m.iid = a.iid
WHERE a.username IS NOT NULL
  AND lower(a.username) IS DISTINCT FROM lower(m.author)
  AND NOT gitlab_is_bot(a.username);

-- Deployments. A webhook row is the deployment event's body: environment is
-- a name, the sha is the end of commit_url, the finish is
-- status_changed_at.
CREATE OR REPLACE TEMP VIEW stg_gitlab__deployments AS
SELECT project,
       id,
       origin,
       payload->>'$.status'                                        AS status,
       CASE WHEN origin = 'api' THEN payload->>'$.environment.name'
            ELSE payload->>'$.environment' END                     AS environment_name,
       CASE WHEN origin = 'api' THEN payload->>'$.environment.tier' END AS tier,
       CASE WHEN origin = 'api' THEN payload->>'$.sha'
            ELSE nullif(regexp_extract(payload->>'$.commit_url', '([0-9a-f]{40})$', 1), '') END AS sha,
       payload->>'$.ref'                                           AS ref,
       payload->>'$.user.username'                                 AS username,
       CASE WHEN origin = 'api'
            THEN coalesce(gitlab_ts(payload->>'$.deployable.started_at'), gitlab_ts(payload->>'$.created_at')) END AS started_at,
       CASE WHEN origin = 'api'
            THEN coalesce(gitlab_ts(payload->>'$.deployable.finished_at'), gitlab_ts(payload->>'$.updated_at'))
            ELSE gitlab_ts(payload->>'$.status_changed_at') END    AS finished_at,
       CASE WHEN origin = 'api' THEN CAST(payload->>'$.deployable.id' AS BIGINT)
            ELSE CAST(payload->>'$.deployable_id' AS BIGINT) END   AS job_id,
       CASE WHEN origin = 'api' THEN payload->>'$.deployable.name' END AS job_name,
       CASE WHEN origin = 'api' THEN CAST(payload->>'$.deployable.pipeline.id' AS BIGINT) END AS pipeline_id,
       CASE WHEN origin = 'api' THEN payload->>'$.deployable.web_url'
            ELSE payload->>'$.deployable_url' END                  AS url
FROM raw_gitlab_deployments;

-- Pipelines (REST list items, or a pipeline event's object_attributes).
CREATE OR REPLACE TEMP VIEW stg_gitlab__pipelines AS
SELECT project,
       id,
       origin,
       payload->>'$.status'                          AS status,
       payload->>'$.ref'                             AS ref,
       payload->>'$.sha'                             AS sha,
       payload->>'$.source'                          AS trigger,
       gitlab_ts(payload->>'$.created_at')           AS created_at,
       gitlab_ts(payload->>'$.finished_at')          AS finished_at,
       TRY_CAST(payload->>'$.duration' AS DOUBLE)    AS duration_s,
       payload->>'$.web_url'                         AS url
FROM raw_gitlab_pipelines;

-- Jobs (REST pipeline jobs, or the builds of a pipeline event, which also
-- carry their environment). ref and sha fall back to the pipeline's.
CREATE OR REPLACE TEMP VIEW stg_gitlab__jobs AS
SELECT j.project,
       j.pipeline_id,
       j.id,
       j.origin,
       j.payload->>'$.name'                                   AS name,
       j.payload->>'$.status'                                 AS status,
       j.payload->>'$.stage'                                  AS stage,
       coalesce(j.payload->>'$.ref', p.ref)                   AS ref,
       coalesce(j.payload->>'$.commit.id', j.payload->>'$.pipeline.sha', p.sha) AS sha,
       gitlab_ts(j.payload->>'$.created_at')                  AS created_at,
       gitlab_ts(j.payload->>'$.started_at')                  AS started_at,
       gitlab_ts(j.payload->>'$.finished_at')                 AS finished_at,
       TRY_CAST(j.payload->>'$.duration' AS DOUBLE)           AS duration_s,
       j.payload->>'$.user.username'                          AS username,
       j.payload->>'$.environment.name'                       AS environment_name,
       j.payload->>'$.environment.deployment_tier'            AS tier,
       j.payload->>'$.web_url'                                AS url
FROM raw_gitlab_jobs j
LEFT JOIN stg_gitlab__pipelines p ON p.project = j.project AND p.id = j.pipeline_id;

-- Issues stored as incidents (REST issues, or an issue event's
-- object_attributes, whose type is "Incident" and labels are objects).
CREATE OR REPLACE TEMP VIEW stg_gitlab__issues AS
SELECT project,
       iid,
       origin,
       payload->>'$.title'                                        AS title,
       payload->>'$.state'                                        AS state,
       lower(coalesce(payload->>'$.issue_type', payload->>'$.type')) AS issue_type,
       lower(nullif(payload->>'$.severity', ''))                  AS severity,
       gitlab_ts(payload->>'$.created_at')                        AS opened_at,
       gitlab_ts(payload->>'$.closed_at')                         AS closed_at,
       coalesce(CASE WHEN origin = 'api' THEN json_extract_string(payload, '$.labels[*]')
                     ELSE json_extract_string(payload, '$.labels[*].title') END, []) AS labels,
       coalesce(payload->>'$.web_url', payload->>'$.url')         AS url,
       CASE WHEN origin = 'api' THEN payload->>'$.author.username' END AS author
FROM raw_gitlab_issues;
