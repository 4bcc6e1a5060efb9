-- name: merge-to-production
-- description: Handoff delay between merge and production per service (median, p75, p90, worst)
-- audience: retro
-- kind: query
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
-- param: team text ''
--
-- Reads fct_changes: deploy_hours (merged_at to the first production
-- deployment that shipped the change) for changes deployed in [from, to).
select service, team,
       count(*) as changes,
       round(quantile_cont(deploy_hours, 0.5), 2) as handoff_median_hours,
       round(quantile_cont(deploy_hours, 0.75), 2) as handoff_p75_hours,
       round(quantile_cont(deploy_hours, 0.9), 2) as handoff_p90_hours,
       round(max(deploy_hours), 2) as handoff_max_hours,
       arg_max(change_id, deploy_hours) as slowest_change
from fct_changes
where deploy_hours is not null and merged_at is not null
  and deployed_at >= $from and deployed_at < $to
  and ($team = '' or team = $team)
group by service, team
order by handoff_median_hours desc, service
