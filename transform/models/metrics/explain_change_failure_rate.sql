-- The deployments behind change failure rate: successful production
-- deployments in the window, failed ones first, with their reason and the
-- incidents and deployment that link them.
-- materialized: table_macro
-- arguments: lo, hi, services := [], teams := []
select d.deployment_id, d.service, d.team, d.finished_at, d.version, d.is_failed, d.failure_reason,
       f.incident_ids, f.restored_by_deployment
from fct_deployments d
join metric_scope('service', services, teams) s on s.service = d.service
left join fct_failures f on f.deployment_id = d.deployment_id
where d.is_production and d.status = 'success' and metric_in_window(d.finished_at, lo, hi)
order by d.is_failed desc, d.finished_at, d.deployment_id
