-- name: retro-events
-- description: Every production deployment, rollback, hotfix, failed deployment and incident of the period, in time order.
-- audience: retro
-- kind: query
-- param: team text ''
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
with deployments as (
    select finished_at as occurred_at,
           case when is_rollback then 'rollback'
                when is_hotfix then 'hotfix'
                else 'deployment' end as kind,
           service,
           deployment_id as id,
           coalesce(version, commit_sha, '') as detail
    from fct_deployments
    where is_production and status = 'success'
      and ($team = '' or team = $team)
      and finished_at >= $from and finished_at < $to
),
failures as (
    select finished_at as occurred_at, 'failed deployment' as kind, service,
           deployment_id as id, reason as detail
    from fct_failures
    where ($team = '' or team = $team)
      and finished_at >= $from and finished_at < $to
),
incidents as (
    select opened_at as occurred_at, 'incident' as kind, service,
           incident_id as id, severity || ': ' || coalesce(title, '') as detail
    from fct_incidents
    where not coalesce(is_false_positive, false)
      and ($team = '' or team = $team)
      and opened_at >= $from and opened_at < $to
)
select occurred_at, kind, service, id, detail
from (
    select * from deployments
    union all select * from failures
    union all select * from incidents
)
order by occurred_at, kind, id
