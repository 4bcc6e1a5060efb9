-- Which kinds of source cover each service, the per-service side of the
-- coverage that internal/coverage reports per source and kind: a service
-- is covered by an incident source when at least one incident naming it
-- was ever ingested (any source, any time, false positives included: the
-- source watches the service), and by a change source when at least one
-- change counts for it (its own, or one a deployment of it shipped). A
-- metric whose inputs have no source is unknown, not zero: the metric SQL
-- (metric_rows_many) reads these flags and gives the reason beside the
-- null (unknown_reason: 'no incident source' for change failure rate,
-- recovery time and MTTR; 'no change source' for lead time). This is the
-- one home of that rule. lead_time_from is what a change is for the
-- service's lead time (int_lead_time_granularity decides it: commits or
-- pull_requests; NULL for a service with no production deployment).
-- test: unique(service)
-- test: not_null(service, has_incident_source, has_change_source)
-- incremental: service
with

incident_services as (
    select distinct service from stg_incidents
),

change_services as (
    select distinct service from fct_changes
    union
    select distinct deployed_service from fct_changes where deployed_service is not null
)

select
    s.service,
    i.service is not null as has_incident_source,
    c.service is not null as has_change_source,
    g.lead_time_from
from dim_services s
left join incident_services i on i.service = s.service
left join change_services c on c.service = s.service
left join int_lead_time_granularity g on g.service = s.service
