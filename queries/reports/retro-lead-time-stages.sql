-- name: retro-lead-time-stages
-- description: Median hours per lead-time stage (coding, pickup, review, deploy) of changes that reached production, per week of deployment.
-- audience: retro
-- kind: query
-- param: team text ''
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
select strftime(timezone('UTC', date_trunc('week', deployed_at)), '%Y-%m-%d') as week,
       count(*) as changes,
       round(quantile_cont(coding_hours, 0.5), 2) as coding_hours,
       round(quantile_cont(pickup_hours, 0.5), 2) as pickup_hours,
       round(quantile_cont(review_hours, 0.5), 2) as review_hours,
       round(quantile_cont(deploy_hours, 0.5), 2) as deploy_hours
from fct_changes
where excluded_reason is null
  and deployed_at is not null
  and ($team = '' or team = $team)
  and deployed_at >= $from and deployed_at < $to
group by all
order by week
