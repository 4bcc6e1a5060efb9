-- name: retro-support-impact
-- description: The production releases of the period with the most support tickets above the number expected from the service's baseline rate, most first.
-- audience: retro
-- kind: query
-- param: team text ''
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
-- param: limit int '40'
select s.service || ' ' || coalesce(s.version, s.deployment_id) as release,
       s.deployment_id, s.service, s.finished_at,
       s.tickets_after,
       round(s.expected_after, 2) as expected_after,
       round(s.ratio, 2) as ratio
from fct_support_impact s
join dim_services d using (service)
where ($team = '' or d.team = $team)
  and s.finished_at >= $from and s.finished_at < $to
order by s.tickets_after - coalesce(s.expected_after, 0) desc, s.finished_at, s.deployment_id
limit $limit
