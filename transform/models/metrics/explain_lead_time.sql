-- The changes behind lead time: every change deployed in the window by a
-- deployment of a service in scope (a change counts at the service and
-- team of the deployment that shipped it, shown here, which fct_changes
-- carries as deployed_service: no join of every deployment), included ones
-- first, then those left out with their reason. stage_anomaly names the
-- stages that were negative and are counted as zero. granularity says
-- whether a row is a change record or a commit (lead time from git, whose
-- change_id is the commit's sha and whose stages are NULL).
-- materialized: table_macro
-- arguments: lo, hi, services := [], teams := []
select c.change_id, s.service, s.team, c.author, c.deployment_id, c.deployed_at, c.link_rule,
       c.first_commit_at, c.lead_time_hours, c.coding_hours, c.pickup_hours, c.review_hours,
       c.deploy_hours, c.excluded_reason, c.stage_anomaly, c.granularity
from fct_changes c
join metric_scope('service', services, teams) s on s.service = c.deployed_service
where c.deployment_id is not null and metric_in_window(c.deployed_at, lo, hi)
order by c.excluded_reason nulls first, c.deployed_at, c.change_id
