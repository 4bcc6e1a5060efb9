-- The deployments behind deployment frequency: successful production
-- deployments in the window, with their UTC day and the hours since the
-- previous one of the same service in the window.
-- materialized: table_macro
-- arguments: lo, hi, services := [], teams := []
select d.deployment_id, d.service, d.team, d.finished_at,
       cast(timezone('UTC', d.finished_at) as date) as day,
       d.version, d.is_rollback, d.is_hotfix,
       (epoch_us(d.finished_at) - lag(epoch_us(d.finished_at)) over (partition by d.service order by d.finished_at, d.deployment_id)) / 3600e6 as hours_since_previous
from fct_deployments d
join metric_scope('service', services, teams) s on s.service = d.service
where d.is_production and d.status = 'success' and metric_in_window(d.finished_at, lo, hi)
order by d.finished_at, d.deployment_id
