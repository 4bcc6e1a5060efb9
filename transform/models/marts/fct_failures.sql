-- Failed successful production deployments, one row each, with the
-- strongest reason (incident > root_cause_commit > rollback > hotfix >
-- time_window), every linked incident, and recovery: the earlier of the
-- finish of the first later deployment that rolled it back or fixed it and
-- the resolution of its last linked incident (NULL while any is open).
-- test: unique(deployment_id)
-- test: not_null(deployment_id, service, finished_at, reason)
-- test: accepted_values(reason: incident, root_cause_commit, rollback, hotfix, time_window)
-- test: relationships(deployment_id -> fct_deployments.deployment_id)
-- incremental: service
with

deployments as (
    select * from int_prod_deployments
),

incident_links as (
    select
        l.incident_id,
        l.deployment_id,
        l.reason,
        case l.reason when 'incident' then 1 when 'root_cause_commit' then 2 else 5 end as strength,
        i.resolved_at
    from int_incident_links l
    join stg_incidents i on i.incident_id = l.incident_id
),

restorers as (
    select r.rollback_of as target, r.deployment_id, r.finished_at, 'rollback' as reason, 3 as strength
    from deployments r
    where r.rollback_of is not null
    union all
    select r.hotfix_of, r.deployment_id, r.finished_at, 'hotfix', 4
    from deployments r
    where r.hotfix_of is not null
    union all
    -- a hotfix naming an incident fixes the deployment the incident is blamed on
    select l.deployment_id, r.deployment_id, r.finished_at, null, null
    from deployments r
    join incident_links l on l.incident_id = r.hotfix_of
),

later_restorers as (
    select r.*
    from restorers r
    join deployments t on t.deployment_id = r.target
    where r.finished_at > t.finished_at
),

reasons as (
    select deployment_id, reason, strength, incident_id from incident_links
    union all
    select target, reason, strength, null from later_restorers where reason is not null
),

failed as (
    select
        deployment_id,
        arg_min(reason, strength) as reason,
        coalesce(list_sort(list(distinct incident_id) filter (where incident_id is not null)), []) as incident_ids
    from reasons
    group by deployment_id
),

restored as (
    select target as deployment_id, arg_min(deployment_id, finished_at) as restored_by_deployment, min(finished_at) as restored_at
    from later_restorers
    group by target
),

incidents_resolved as (
    select deployment_id, case when count(resolved_at) = count(*) then max(resolved_at) end as resolved_at
    from incident_links
    group by deployment_id
),

recovery as (
    select
        f.*,
        d.service,
        d.finished_at,
        r.restored_by_deployment,
        case
            when r.restored_at is null then i.resolved_at
            when i.resolved_at is null then r.restored_at
            else least(r.restored_at, i.resolved_at)
        end as recovered_at
    from failed f
    join deployments d on d.deployment_id = f.deployment_id
    left join restored r on r.deployment_id = f.deployment_id
    left join incidents_resolved i on i.deployment_id = f.deployment_id
)

select
    r.deployment_id,
    r.service,
    s.team,
    r.finished_at,
    r.reason,
    r.incident_ids,
    r.restored_by_deployment,
    r.recovered_at,
    (epoch_us(r.recovered_at) - epoch_us(r.finished_at)) / 3600e6 as recovery_hours
from recovery r
left join stg_services s on s.service = r.service
order by r.finished_at
