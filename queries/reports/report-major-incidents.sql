-- name: report-major-incidents
-- description: The period's major incidents (by default sev1 and sev2; false positives left out) with their service, deployment blamed and how long each took to resolve, most severe and earliest first.
-- audience: leadership
-- kind: query
-- param: team text ''
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
-- param: severities text 'sev1,sev2'
select incident_id,
       severity,
       service,
       title,
       opened_at,
       resolved_at,
       resolve_hours,
       attributed_deployment
from fct_incidents
where not coalesce(is_false_positive, false)
  and list_contains(string_split(lower(replace($severities, ' ', '')), ','), lower(severity))
  and ($team = '' or team = $team)
  and opened_at >= $from and opened_at < $to
order by severity, opened_at, incident_id
