-- Test runs (one suite of one build each), one row per id (the first
-- source by name wins); service is a key (trimmed, lower-cased).
select
    id                                  as test_run_id,
    lower(trim(service))                as service,
    commit_sha,
    version,
    framework,
    suite,
    started_at,
    tests,
    passed,
    failed,
    skipped,
    duration_s,
    coalesce(required, false)           as required
from test_runs
qualify row_number() over (partition by id order by source) = 1
