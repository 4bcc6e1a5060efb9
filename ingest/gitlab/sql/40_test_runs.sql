-- Test report summaries of GitLab pipelines (pipelines.test_reports) →
-- canonical test_runs, one row per suite, id
-- "group/project/pipelines/ID/SUITE". failed counts failed and errored
-- tests; started_at is the pipeline's creation; framework "gitlab".
INSERT INTO test_runs (id, service, commit_sha, version, framework, suite, started_at, tests, passed,
                       failed, skipped, duration_s, required, extra, source)
WITH suites AS (
    SELECT project, pipeline_id, unnest(json_extract(payload, '$.test_suites[*]')) AS s
    FROM raw_gitlab_test_reports
)
SELECT x.project || '/pipelines/' || x.pipeline_id || '/' || (x.s->>'$.name'),
       gitlab_service(x.project),
       p.sha,
       p.ref,
       'gitlab',
       x.s->>'$.name',
       p.created_at,
       coalesce(CAST(x.s->>'$.total_count' AS BIGINT), 0),
       coalesce(CAST(x.s->>'$.success_count' AS BIGINT), 0),
       coalesce(CAST(x.s->>'$.failed_count' AS BIGINT), 0) + coalesce(CAST(x.s->>'$.error_count' AS BIGINT), 0),
       CAST(x.s->>'$.skipped_count' AS BIGINT),
       TRY_CAST(x.s->>'$.total_time' AS DOUBLE),
       NULL,
       json_object('pipeline_id', x.pipeline_id, 'pipeline_status', p.status, 'suite_error', x.s->>'$.suite_error'),
       'gitlab'
FROM suites x
JOIN stg_gitlab__pipelines p ON p.project = x.project AND p.id = x.pipeline_id
WHERE p.created_at IS NOT NULL AND (x.s->>'$.name') IS NOT NULL;
