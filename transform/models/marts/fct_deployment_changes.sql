-- Which changes each successful production deployment shipped: every change
-- once, at its first successful production deployment, with the rule that
-- linked it (explicit before commit_graph before time on a tie).
-- test: unique(change_id)
-- test: not_null(deployment_id, change_id, link_rule)
-- test: accepted_values(link_rule: explicit, commit_graph, time)
-- test: relationships(deployment_id -> fct_deployments.deployment_id)
with

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
)

select
    d.deployment_id,
    f.change_id,
    case f.rule_rank when 1 then 'explicit' when 2 then 'commit_graph' else 'time' end as link_rule,
    d.finished_at as deployed_at
from firsts f
join int_prod_deployments d on d.dep_idx = f.dep_idx
