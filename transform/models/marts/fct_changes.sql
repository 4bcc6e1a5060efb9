-- Changes with their first production deployment, lead time and stages
-- (hours). excluded_reason says why a change is left out of lead time:
-- not_deployed, pre_tracking (first commit before the service's first
-- successful production deployment finished) or non_positive (lead time <= 0).
-- test: unique(change_id)
-- test: not_null(change_id, service, first_commit_at)
-- test: accepted_values(excluded_reason: non_positive, pre_tracking, not_deployed)
-- test: accepted_values(link_rule: explicit, commit_graph, time)
with

changes as (
    select * from int_changes
),

links as (
    select * from fct_deployment_changes
),

first_production as (
    select service, min(finished_at) as first_production_at
    from int_prod_deployments
    group by service
)

select
    c.change_id,
    c.service,
    s.team,
    c.repo,
    c.title,
    c.author,
    c.first_commit_at,
    c.opened_at,
    c.first_review_at,
    c.approved_at,
    c.merged_at,
    c.approvals,
    c.is_revert,
    l.deployment_id,
    l.deployed_at,
    l.link_rule,
    (epoch_us(l.deployed_at) - epoch_us(c.first_commit_at)) / 3600e6 as lead_time_hours,
    (epoch_us(c.opened_at) - epoch_us(c.first_commit_at)) / 3600e6     as coding_hours,
    (epoch_us(c.first_review_at) - epoch_us(c.opened_at)) / 3600e6     as pickup_hours,
    (epoch_us(c.merged_at) - epoch_us(c.first_review_at)) / 3600e6     as review_hours,
    (epoch_us(l.deployed_at) - epoch_us(c.merged_at)) / 3600e6         as deploy_hours,
    case
        when l.deployment_id is null then 'not_deployed'
        when c.first_commit_at < f.first_production_at then 'pre_tracking'
        when l.deployed_at <= c.first_commit_at then 'non_positive'
    end as excluded_reason
from changes c
left join links l on l.change_id = c.change_id
left join stg_services s on s.service = c.service
left join first_production f on f.service = c.service
