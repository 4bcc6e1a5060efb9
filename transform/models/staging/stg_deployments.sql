-- Deployments, one row per id (the first source by name wins); environment lower-cased, flags defaulted to
-- false, branch and title lifted from extra.
-- test: accepted_values(status: success, failure, cancelled)
with

renamed as not materialized (
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
        extra ->> 'title'                   as title,
        id,
        source
    from deployments
),

first_source as (
    select min(source) as source from deployments
)

-- One row per id, the first source by name winning. Rows of the first
-- source always win; only rows of a later source go through the anti join,
-- against rows of a source that sorts before another. With one source (the
-- usual case) both sides of the join are empty, whichever side DuckDB
-- chooses to build its hash table on.
select * exclude (id, source)
from renamed
where source = (select source from first_source)
union all
select r.* exclude (id, source)
from renamed r
anti join (
    select id, source from deployments
    where source < (select max(source) from deployments)
) other on other.id = r.id and other.source < r.source
where r.source > (select source from first_source)
