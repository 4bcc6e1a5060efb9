-- The failed deployments behind recovery time, in the window: when and
-- how each was recovered, and the unrecovered ones.
-- materialized: table_macro
-- arguments: lo, hi, services := [], teams := []
select f.deployment_id, f.service, f.team, f.finished_at, f.reason, f.incident_ids,
       f.restored_by_deployment, f.recovered_at, f.recovery_hours,
       f.recovered_at is null as unrecovered
from fct_failures f
join metric_scope('service', services, teams) s on s.service = f.service
where metric_in_window(f.finished_at, lo, hi)
order by f.finished_at, f.deployment_id
