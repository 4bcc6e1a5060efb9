-- Deployments, one row per id (the first source by name wins); environment lower-cased, flags defaulted to
-- false, branch and title lifted from extra.
-- test: accepted_values(status: success, failure, cancelled)
-- param: several_sources_deployments bool 'false'
select
    id                                  as deployment_id,
    service,
    lower(environment)                  as environment,
    status,
    started_at,
    finished_at,
    coalesce(started_at, finished_at)   as start_ts,
    version,
    commit_sha,
    previous_commit_sha,
    changes,
    triggered_by,
    change_request,
    coalesce(is_rollback, false)        as is_rollback,
    rollback_of,
    coalesce(is_hotfix, false)          as is_hotfix,
    hotfix_of,
    extra ->> 'branch'                  as branch,
    extra ->> 'title'                   as title
from deployments d
-- one row per id: the first source by name wins (an anti join is cheaper
-- than a window over millions of rows)
anti join (
    -- the run value several_sources_deployments says whether more than one
    -- source had sent deployments when the run started: false (the usual case)
    -- leaves this side empty, and DuckDB drops the join from the plan
    select id, source from deployments
    where getvariable('several_sources_deployments')
) other on other.id = d.id and other.source < d.source
