-- Which changes each successful production deployment shipped: every change
-- once, at its first production deployment, with the linking rule.
-- test: unique(change_id)
-- test: not_null(deployment_id, change_id, link_rule)
-- test: accepted_values(link_rule: explicit, commit_graph, time)
-- test: relationships(deployment_id -> fct_deployments.deployment_id)
select deployment_id, change_id, link_rule, deployed_at
from int_change_links
