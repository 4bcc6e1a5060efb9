-- Deployments, one row per id (the first source by name wins). Names are
-- keys here: service and environment are trimmed and lower-cased (the
-- canonical table keeps the spelling as sent), so `Production` and
-- `production ` are one environment everywhere downstream; the person who
-- triggered it is trimmed, with triggered_by_key lower-cased for comparing
-- people. changes keeps the difference between no list (NULL: the
-- commit graph or time rule decides) and an empty list ([]: the deployment
-- says it shipped nothing). A deployment that names what it rolls back
-- (rollback_of) is a rollback, and one that names what it fixes
-- (hotfix_of) a hotfix, whatever its flags say. Branch and title are
-- lifted from extra; url is the source's link to the run (evidence).
-- test: accepted_values(status: success, failure, cancelled)
-- param: several_sources_deployments bool 'false'
-- param: main_source_deployments text null
select
    id                                  as deployment_id,
    lower(trim(service))                as service,
    lower(trim(environment))            as environment,
    status,
    started_at,
    finished_at,
    coalesce(started_at, finished_at)   as start_ts,
    version,
    commit_sha,
    previous_commit_sha,
    changes,
    nullif(trim(triggered_by), '')          as triggered_by,
    lower(nullif(trim(triggered_by), ''))   as triggered_by_key,
    nullif(trim(change_request), '')        as change_request,
    coalesce(is_rollback, false) or rollback_of is not null as is_rollback,
    rollback_of,
    coalesce(is_hotfix, false) or hotfix_of is not null     as is_hotfix,
    hotfix_of,
    extra ->> 'branch'                  as branch,
    extra ->> 'title'                   as title,
    nullif(trim(url), '')               as url
from deployments d
-- one row per id: the first source by name wins (an anti join is cheaper
-- than a window over millions of rows)
anti join (
    -- the run value several_sources_deployments says whether more than one
    -- source had sent deployments when the run started: false (the usual case)
    -- leaves this side empty, and DuckDB drops the join from the plan; only
    -- the ids sources other than the main one sent are hashed (stg_changes)
    select id, source from deployments
    where getvariable('several_sources_deployments')
      and id in (select id from deployments where source <> getvariable('main_source_deployments'))
) other on other.id = d.id and other.source < d.source
