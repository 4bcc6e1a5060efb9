-- The deployments behind rework rate: successful production deployments in
-- the window, unplanned ones first, with the reason.
-- materialized: table_macro
-- arguments: lo, hi, services := [], teams := []
select d.deployment_id, d.service, d.team, d.finished_at, d.version, d.is_unplanned,
       d.unplanned_reason, d.is_rollback, d.rollback_of, d.is_hotfix, d.hotfix_of
from fct_deployments d
join metric_scope('service', services, teams) s on s.service = d.service
where d.is_production and d.status = 'success' and metric_in_window(d.finished_at, lo, hi)
order by d.is_unplanned desc, d.finished_at, d.deployment_id
