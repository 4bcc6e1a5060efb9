-- name: release-impact
-- description: What a release caused: its production deployments (by deployment id, or every one of a service's version), and for each its failure and recovery, the incidents blamed on it, the rollbacks and hotfixes of it, and the support tickets after it against the service's baseline; one row per item, in time order.
-- audience: retro
-- kind: query
-- param: deployment text ''
-- param: service text ''
-- param: version text ''
with

releases as (
    select deployment_id, service, version, finished_at, status, is_failed
    from fct_deployments
    where is_production
      and (($deployment <> '' and deployment_id = $deployment)
        or ($deployment = '' and $service <> '' and service = $service and version = $version))
),

deployments as (
    select deployment_id as release_deployment, 'deployment' as relation, deployment_id as id, service,
           finished_at as occurred_at,
           status || case when is_failed then ', failed' else '' end as detail,
           null::double as elapsed_hours
    from releases
),

failures as (
    select r.deployment_id, 'failure', f.deployment_id, f.service, f.finished_at,
           f.reason || coalesce(', restored by ' || f.restored_by_deployment,
                                case when f.recovered_at is not null then ', recovered when its incidents were resolved'
                                     else ', not recovered' end),
           f.recovery_hours
    from fct_failures f
    join releases r using (deployment_id)
),

incidents as (
    select r.deployment_id, 'incident', i.incident_id, i.service, i.opened_at,
           i.severity || ': ' || coalesce(i.title, ''),
           i.resolve_hours
    from fct_incidents i
    join releases r on i.attributed_deployment = r.deployment_id or i.caused_by_deployment = r.deployment_id
    where not coalesce(i.is_false_positive, false)
),

fixes as (
    select r.deployment_id,
           case when d.rollback_of = r.deployment_id then 'rollback' else 'hotfix' end,
           d.deployment_id, d.service, d.finished_at,
           coalesce(d.version, ''),
           (epoch_us(d.finished_at) - epoch_us(r.finished_at)) / 3600e6
    from fct_deployments d
    join releases r on d.rollback_of = r.deployment_id or d.hotfix_of = r.deployment_id
    where d.is_production and d.status = 'success'
),

tickets as (
    select r.deployment_id, 'support tickets', r.deployment_id, s.service, s.finished_at,
           s.tickets_after || ' after it, ' || round(s.expected_after, 1) || ' expected from the baseline',
           null::double
    from fct_support_impact s
    join releases r using (deployment_id)
)

select release_deployment, relation, id, service, occurred_at, detail, elapsed_hours
from (
    select * from deployments
    union all select * from failures
    union all select * from incidents
    union all select * from fixes
    union all select * from tickets
)
order by release_deployment, occurred_at, relation, id
