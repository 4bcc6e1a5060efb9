-- Every deployment, with its production flags. is_failed, failure_reason and
-- changes_shipped are set for successful production deployments only.
-- is_unplanned: a rollback, a hotfix, or a version, branch or title matching
-- the configured hotfix patterns (unplanned_reason: rollback, hotfix, pattern).
-- test: unique(deployment_id)
-- test: not_null(deployment_id, service, environment, status, finished_at, is_production, is_unplanned)
-- test: accepted_values(failure_reason: incident, root_cause_commit, rollback, hotfix, time_window)
-- test: accepted_values(unplanned_reason: rollback, hotfix, pattern)
-- param: hotfix_regex text null
with

settings as (
    select * from cfg
),

flagged as (
    select
        d.*,
        case
            when d.is_rollback then 'rollback'
            when d.is_hotfix then 'hotfix'
            when coalesce(regexp_matches(d.version, getvariable('hotfix_regex'))
                       or regexp_matches(d.branch, getvariable('hotfix_regex'))
                       or regexp_matches(d.title, getvariable('hotfix_regex')), false) then 'pattern'
        end as unplanned_reason
    from stg_deployments d
    cross join settings c
),

-- changes each production deployment shipped first (the rows of
-- fct_deployment_changes), counted by deployment number
shipped as (
    select dep_idx, count(*) as changes_shipped
    from int_first_links
    group by dep_idx
)

select
    d.deployment_id,
    d.service,
    s.team,
    s.department,
    d.environment,
    list_contains(c.production_environments, d.environment) as is_production,
    d.status,
    d.started_at,
    d.finished_at,
    d.version,
    d.commit_sha,
    d.triggered_by,
    d.change_request,
    d.is_rollback,
    d.rollback_of,
    d.is_hotfix,
    d.hotfix_of,
    d.unplanned_reason is not null as is_unplanned,
    d.unplanned_reason,
    case when p.deployment_id is not null then f.deployment_id is not null end as is_failed,
    f.reason as failure_reason,
    f.recovered_at,
    f.recovery_hours,
    case when p.deployment_id is not null then coalesce(n.changes_shipped, 0) end as changes_shipped,
    p.link_rule
from flagged d
cross join settings c
left join dim_services s on s.service = d.service
left join int_prod_deployments p on p.deployment_id = d.deployment_id
left join fct_failures f on f.deployment_id = d.deployment_id
left join shipped n on n.dep_idx = p.dep_idx
