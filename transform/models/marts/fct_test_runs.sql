-- Test runs, one row per suite run of a build: the service (key), the
-- build (version and/or commit), counts, and executed = tests - skipped
-- (the denominator of a pass rate).
-- test: unique(test_run_id)
-- test: not_null(test_run_id, service, started_at, tests, passed, failed)
select
    test_run_id,
    service,
    version,
    commit_sha,
    framework,
    suite,
    started_at,
    tests,
    passed,
    failed,
    coalesce(skipped, 0)            as skipped,
    tests - coalesce(skipped, 0)    as executed,
    duration_s,
    required
from stg_test_runs
order by started_at, test_run_id
