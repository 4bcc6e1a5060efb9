-- Feature adoption after the releases that shipped the features
-- (fct_adoption), for services in scope released in the window (either
-- end null for open).
-- materialized: table_macro
-- arguments: lo, hi, services := [], teams := []
select a.*
from fct_adoption a
join metric_scope('service', services, teams) s on s.service = a.service
where metric_in_window(a.released_at, lo, hi)
order by a.released_at, a.service, a.feature
