-- Deployments, one row per id (the first source by name wins); environment lower-cased, flags defaulted to
-- false, branch and title lifted from extra.
-- test: accepted_values(status: success, failure, cancelled)
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
anti join (
    -- only rows of a source that sorts before another can shadow a row:
    -- with one source this side is empty and the join costs nothing
    select id, source from deployments
    where source < (select max(source) from deployments)
) other on other.id = d.id and other.source < d.source
