-- materialized: view
-- incremental: service
-- Which changes each successful production deployment shipped: every change
-- once, at its first successful production deployment, with the rule that
-- linked it (explicit before commit_graph before time on a tie). A view of
-- fct_changes, which picks that link (change_id is unique there, and so
-- here).
-- test: not_null(deployment_id, change_id, link_rule)
-- test: accepted_values(link_rule: explicit, commit_graph, time)
-- test: relationships(deployment_id -> fct_deployments.deployment_id)
select deployment_id, change_id, link_rule, deployed_at
from fct_changes
where deployment_id is not null
