-- name: retro-failed-deployments
-- description: Every failed production deployment of the period with the reason it counts as failed and how (and when) it was recovered.
-- audience: retro
-- kind: query
-- param: team text ''
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
select f.deployment_id, f.service, d.version, f.finished_at, f.reason,
       array_to_string(f.incident_ids, ', ') as incidents,
       f.restored_by_deployment, f.recovered_at,
       round(f.recovery_hours, 2) as recovery_hours
from fct_failures f
left join fct_deployments d using (deployment_id)
where ($team = '' or f.team = $team)
  and f.finished_at >= $from and f.finished_at < $to
order by f.finished_at, f.deployment_id
