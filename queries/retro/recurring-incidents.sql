-- name: recurring-incidents
-- description: Incidents that recur for the same service and cause
-- audience: retro
-- kind: query
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
-- param: min_count int '2'
--
-- Reads fct_incidents. The cause is, in this order: the cause the source
-- states (stated_cause: extra.cause, extra.category or extra.root_cause,
-- read in staging), "deployment" when a deployment caused it, else the
-- title with digits and ids normalised away (so "Checkout 502s on pod 7"
-- and "Checkout 502s on pod 12" group together). False positives are left
-- out.
with incidents_in as (
    select f.incident_id, f.service, f.team, f.severity, f.title, f.opened_at, f.resolve_hours,
           coalesce(
               f.stated_cause,
               case when f.caused_by_deployment is not null then 'deployment' end,
               trim(regexp_replace(lower(coalesce(f.title, '')), '[0-9]+', '#', 'g'))
           ) as cause
    from fct_incidents f
    where not coalesce(f.is_false_positive, false)
      and f.opened_at >= $from and f.opened_at < $to
)
select service, cause, count(*) as incidents,
       min(opened_at) as first_opened_at, max(opened_at) as last_opened_at,
       list(incident_id order by opened_at) as incident_ids,
       list(distinct severity order by severity) as severities,
       round(median(resolve_hours), 2) as resolve_median_hours
from incidents_in
group by service, cause
having count(*) >= $min_count
order by incidents desc, service, cause
