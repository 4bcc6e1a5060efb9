-- The window a metric call covers when one end is open (NULL): lo defaults
-- to the UTC day of the first successful production deployment in scope,
-- hi to the UTC day after the last one (before hi when hi is given). An
-- open end stays NULL when there is no deployment to take it from.
-- materialized: table_macro
-- arguments: lo, hi, services := [], teams := []
select
    coalesce(lo::timestamptz, timezone('UTC', date_trunc('day', timezone('UTC', m.first_at)))) as lo,
    coalesce(hi::timestamptz, timezone('UTC', date_trunc('day', timezone('UTC', m.last_at)) + interval 1 day)) as hi
from (
    select min(d.finished_at) as first_at, max(d.finished_at) as last_at
    from fct_deployments d
    join metric_scope('service', services, teams) s on s.service = d.service
    where d.is_production and d.status = 'success'
      and (hi is null or d.finished_at < hi::timestamptz)
) m
