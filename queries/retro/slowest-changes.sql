-- name: slowest-changes
-- description: Changes with the longest lead time and the stage (coding, pickup, review, deploy) where each waited longest
-- audience: retro
-- kind: query
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
-- param: team text ''
-- param: service text ''
-- param: limit int '20'
--
-- Reads fct_changes: changes deployed to production in [from, to) with a
-- lead time. Empty team or service means all.
with changes as (
    select *
    from fct_changes
    where lead_time_hours is not null and excluded_reason is null
      and deployed_at >= $from and deployed_at < $to
      and ($team = '' or team = $team)
      and ($service = '' or service = $service)
),
stages as (
    select *,
           greatest(coalesce(coding_hours, 0), coalesce(pickup_hours, 0),
                    coalesce(review_hours, 0), coalesce(deploy_hours, 0)) as longest_stage_hours
    from changes
)
select change_id, service, team, title, author, first_commit_at, deployed_at,
       round(lead_time_hours, 2) as lead_time_hours,
       round(coding_hours, 2) as coding_hours, round(pickup_hours, 2) as pickup_hours,
       round(review_hours, 2) as review_hours, round(deploy_hours, 2) as deploy_hours,
       case
           when coding_hours is null and pickup_hours is null and review_hours is null and deploy_hours is null then null
           when longest_stage_hours = coalesce(coding_hours, 0) then 'coding'
           when longest_stage_hours = coalesce(pickup_hours, 0) then 'pickup'
           when longest_stage_hours = coalesce(review_hours, 0) then 'review'
           else 'deploy'
       end as waited_longest_in
from stages
order by lead_time_hours desc, change_id
limit $limit
