-- Support tickets after each release against the service's baseline rate
-- (fct_support_impact), for services in scope and releases finished in the
-- window (either end null for open).
-- materialized: table_macro
-- arguments: lo, hi, services := [], teams := []
select a.*
from fct_support_impact a
join metric_scope('service', services, teams) s on s.service = a.service
where metric_in_window(a.finished_at, lo, hi)
order by a.finished_at, a.service
