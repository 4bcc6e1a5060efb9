-- Changes with their first production deployment, lead time and stages
-- (hours). excluded_reason says why a change is left out of lead time:
-- not_deployed, pre_tracking (first commit before the service's first
-- successful production deployment finished) or non_positive (lead time <= 0).
-- The first deployment is the earliest successful production deployment
-- that any rule links the change to (explicit before commit_graph before
-- time on a tie); fct_deployment_changes shows these links.
-- test: unique(change_id)
-- test: not_null(change_id, service, first_commit_at)
-- test: accepted_values(excluded_reason: non_positive, pre_tracking, not_deployed)
-- test: accepted_values(link_rule: explicit, commit_graph, time)
with

changes as (
    select * from int_changes
),

links as (
    select dep_idx, change_id, 1 as rule_rank, epoch_us(finished_at) * 4 + 1 as rank_key from int_links_explicit
    union all
    select dep_idx, change_id, 2, epoch_us(finished_at) * 4 + 2 from int_links_graph
    union all
    select dep_idx, change_id, 3, epoch_us(finished_at) * 4 + 3 from int_links_time
),

-- fixed-size aggregate states over integers: far cheaper on millions of
-- groups than carrying the deployment's id and rule as strings
firsts as (
    select
        change_id,
        arg_min(dep_idx, rank_key)       as dep_idx,
        arg_min(rule_rank, rank_key)     as rule_rank
    from links
    group by change_id
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
    d.deployment_id,
    d.finished_at as deployed_at,
    case f.rule_rank when 1 then 'explicit' when 2 then 'commit_graph' when 3 then 'time' end as link_rule,
    (epoch_us(d.finished_at) - epoch_us(c.first_commit_at)) / 3600e6 as lead_time_hours,
    (epoch_us(c.opened_at) - epoch_us(c.first_commit_at)) / 3600e6     as coding_hours,
    (epoch_us(c.first_review_at) - epoch_us(c.opened_at)) / 3600e6     as pickup_hours,
    (epoch_us(c.merged_at) - epoch_us(c.first_review_at)) / 3600e6     as review_hours,
    (epoch_us(d.finished_at) - epoch_us(c.merged_at)) / 3600e6         as deploy_hours,
    case
        when d.deployment_id is null then 'not_deployed'
        when c.first_commit_at < fp.first_production_at then 'pre_tracking'
        when d.finished_at <= c.first_commit_at then 'non_positive'
    end as excluded_reason
from changes c
left join firsts f on f.change_id = c.change_id
left join int_prod_deployments d on d.dep_idx = f.dep_idx
left join stg_services s on s.service = c.service
left join first_production fp on fp.service = c.service
