-- name: access-to-deploy
-- description: Who deployed what and where, against the service's allowed deployers: one row per person, service and environment
-- audience: audit
-- kind: query
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
-- param: person text ''
-- param: service text ''
--
-- Deployments finished in [from, to), every environment and status,
-- grouped by who triggered them (trimmed; "(no trigger recorded)" when
-- missing), service and environment. allowed is whether the person is in
-- the service's allowed deployers (dim_services: the service record's
-- allowed_deployers and the configuration's controls.allowed_deployers),
-- NULL when the service names none. is_production is the models'
-- decision (fct_deployments.is_production): the deployer-not-allowed
-- control examines only those rows. Reads fct_deployments and
-- dim_services.
select coalesce(d.triggered_by, '(no trigger recorded)') as deployer,
       d.service, d.environment, d.is_production,
       count(*) as deployments,
       count(*) filter (where d.status = 'success') as successful,
       min(d.finished_at) as first_at,
       max(d.finished_at) as last_at,
       case when len(s.allowed_deployer_keys) = 0 then null
            else coalesce(list_contains(s.allowed_deployer_keys, d.triggered_by_key), false) end as allowed,
       s.allowed_deployers
from fct_deployments d
left join dim_services s on s.service = d.service
where d.finished_at >= $from and d.finished_at < $to
  and ($person = '' or d.triggered_by_key = lower(trim($person)))
  and ($service = '' or d.service = lower(trim($service)))
group by all
order by deployer, d.service, d.environment
