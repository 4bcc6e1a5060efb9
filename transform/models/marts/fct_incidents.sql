-- Incidents with acknowledge and resolve times (hours) and the deployment
-- each is blamed on (attributed_deployment) and why (attribution); who
-- acknowledged it and the cause its source states (stg_incidents reads
-- them from extra).
-- test: unique(incident_id)
-- test: not_null(incident_id, service, severity, opened_at)
-- test: accepted_values(attribution: incident, root_cause_commit, time_window)
-- incremental: service
select
    i.incident_id,
    i.service,
    s.team,
    i.severity,
    i.title,
    i.opened_at,
    i.acknowledged_at,
    i.resolved_at,
    (epoch_us(i.acknowledged_at) - epoch_us(i.opened_at)) / 3600e6 as ack_hours,
    (epoch_us(i.resolved_at) - epoch_us(i.opened_at)) / 3600e6     as resolve_hours,
    i.is_false_positive,
    i.caused_by_deployment,
    l.deployment_id as attributed_deployment,
    l.reason        as attribution,
    i.root_cause_sha,
    i.acknowledged_by,
    i.stated_cause
from stg_incidents i
left join stg_services s on s.service = i.service
left join int_incident_links l on l.incident_id = i.incident_id
order by i.opened_at
