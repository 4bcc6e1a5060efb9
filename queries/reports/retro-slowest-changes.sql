-- name: retro-slowest-changes
-- description: The changes with the longest lead time (first commit to production) in the period, with their stage breakdown.
-- audience: retro
-- kind: query
-- param: team text ''
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
-- param: limit int '20'
select change_id, service, title, author,
       round(lead_time_hours, 2) as lead_time_hours,
       round(coding_hours, 2) as coding_hours,
       round(pickup_hours, 2) as pickup_hours,
       round(review_hours, 2) as review_hours,
       round(deploy_hours, 2) as deploy_hours,
       deployed_at
from fct_changes
where excluded_reason is null
  and lead_time_hours is not null
  and ($team = '' or team = $team)
  and deployed_at >= $from and deployed_at < $to
order by lead_time_hours desc, change_id
limit $limit
