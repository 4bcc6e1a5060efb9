-- Each change at its first successful production deployment, with the rule
-- that linked it (explicit before commit_graph before time on a tie).
with

links as (
    select deployment_id, finished_at, change_id, 'explicit' as link_rule, 1 as rule_rank from int_links_explicit
    union all
    select deployment_id, finished_at, change_id, 'commit_graph', 2 from int_links_graph
    union all
    select deployment_id, finished_at, change_id, 'time', 3 from int_links_time
)

select deployment_id, change_id, link_rule, finished_at as deployed_at
from links
qualify row_number() over (partition by change_id order by finished_at, rule_rank, deployment_id) = 1
