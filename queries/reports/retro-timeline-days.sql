-- name: retro-timeline-days
-- description: Production deployments per day by what they turned out to be — failed (counted once, as failed), rollback, hotfix or plain deployment — and incidents per day, for the retrospective timeline.
-- audience: retro
-- kind: query
-- param: team text ''
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
with deployments as (
    select finished_at as occurred_at,
           case when is_failed then 'failed deployment'
                when is_rollback then 'rollback'
                when is_hotfix then 'hotfix'
                else 'deployment' end as kind
    from fct_deployments
    where is_production and status = 'success'
      and ($team = '' or team = $team)
      and finished_at >= $from and finished_at < $to
),
incidents as (
    select opened_at as occurred_at, 'incident' as kind
    from fct_incidents
    where not coalesce(is_false_positive, false)
      and ($team = '' or team = $team)
      and opened_at >= $from and opened_at < $to
),
events as (
    select * from deployments
    union all select * from incidents
)
select strftime(timezone('UTC', occurred_at), '%Y-%m-%d') as day,
       kind,
       count(*) as events
from events
group by all
order by day, kind
