-- name: retro-incidents-by-severity
-- description: Incidents opened in the period per severity, with median hours to acknowledge and to resolve (false positives left out).
-- audience: retro
-- kind: query
-- param: team text ''
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
select severity,
       count(*) as incidents,
       count(resolved_at) as resolved,
       round(quantile_cont(ack_hours, 0.5), 2) as ack_median_hours,
       round(quantile_cont(resolve_hours, 0.5), 2) as resolve_median_hours
from fct_incidents
where not coalesce(is_false_positive, false)
  and ($team = '' or team = $team)
  and opened_at >= $from and opened_at < $to
group by all
order by severity
