-- name: incidents-outside-hours
-- description: Incidents opened outside business hours and who acknowledged them
-- audience: retro
-- kind: query
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
-- param: time_zone text 'UTC'
-- param: day_start int '9'
-- param: day_end int '18'
--
-- Reads fct_incidents. Business hours are Monday to Friday, from day_start
-- to day_end (hours, end exclusive) in time_zone. Who acknowledged an
-- incident is not a canonical field: staging reads it from the incident's
-- extra fields acknowledged_by, then responder, then assignee (as the Jira
-- and pager exports carry it); empty when none is present.
with incidents_in as (
    select f.incident_id, f.service, f.team, f.severity, f.title, f.opened_at,
           f.acknowledged_at, f.ack_hours, f.resolve_hours,
           timezone($time_zone, f.opened_at) as local_open,
           f.acknowledged_by
    from fct_incidents f
    where f.opened_at >= $from and f.opened_at < $to
)
select incident_id, service, team, severity, title, opened_at,
       strftime(local_open, '%a %H:%M') as local_opened,
       case when isodow(local_open) >= 6 then 'weekend' else 'night' end as outside,
       acknowledged_by, acknowledged_at, round(ack_hours, 2) as ack_hours,
       round(resolve_hours, 2) as resolve_hours
from incidents_in
where isodow(local_open) >= 6
   or hour(local_open) < $day_start or hour(local_open) >= $day_end
order by opened_at, incident_id
