-- Which changes each successful production deployment shipped: every change
-- once, at its first successful production deployment, with the rule that
-- linked it (explicit before commit_graph before time on a tie).
-- test: unique(change_id)
-- test: not_null(deployment_id, change_id, link_rule)
-- test: accepted_values(link_rule: explicit, commit_graph, time)
-- test: relationships(deployment_id -> fct_deployments.deployment_id)
with

links as (
    select deployment_id, finished_at, change_id, 'explicit' as link_rule, 1 as rule_rank from int_links_explicit
    union all
    select deployment_id, finished_at, change_id, 'commit_graph', 2 from int_links_graph
    union all
    select deployment_id, finished_at, change_id, 'time', 3 from int_links_time
),

firsts as (
    select
        change_id,
        arg_min(struct_pack(deployment_id, link_rule, finished_at), epoch_us(finished_at) * 4 + rule_rank) as first
    from links
    group by change_id
)

select first.deployment_id, change_id, first.link_rule, first.finished_at as deployed_at
from firsts
