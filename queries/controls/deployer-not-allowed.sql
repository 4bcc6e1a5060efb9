-- name: deployer-not-allowed
-- description: Production deployments triggered by someone outside the service's allowed deployers
-- audience: audit
-- kind: control
-- population: production deployments
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
--
-- Subject: one production deployment (success or failure) finished in
-- [from, to) of a service that lists allowed_deployers; a service with no
-- list puts no restriction on who deploys it and is not examined. People
-- are compared by their keys (trimmed, lower-cased in staging). outcome:
-- evidence (the trigger is listed) or failed.
with checked as (
    select d.deployment_id, d.service, d.environment, d.status, d.version, d.triggered_by,
           d.triggered_by_key, d.finished_at, d.url, s.allowed_deployers, s.allowed_deployer_keys
    from fct_deployments d
    join dim_services s on s.service = d.service
    where d.is_production and d.status in ('success', 'failure')
      and d.finished_at >= $from and d.finished_at < $to
      and len(s.allowed_deployer_keys) > 0
)
select deployment_id as subject,
       deployment_id, service, environment, status, version, finished_at,
       triggered_by, allowed_deployers, url as deployment_url,
       case when list_contains(allowed_deployer_keys, triggered_by_key) then 'evidence' else 'failed' end as outcome,
       case
           when triggered_by_key is null then 'deployment with no recorded trigger'
           when not list_contains(allowed_deployer_keys, triggered_by_key)
           then triggered_by || ' is not an allowed deployer'
       end as rule
from checked
order by finished_at, deployment_id
