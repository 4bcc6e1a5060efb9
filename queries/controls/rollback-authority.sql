-- name: rollback-authority
-- description: Production rollbacks triggered by someone outside the service's rollback authority
-- audience: audit
-- kind: control
-- population: production deployments
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
--
-- Subject: one production rollback (fct_deployments.is_rollback: flagged,
-- or naming what it rolls back in rollback_of) that finished in [from,
-- to), whatever its status. The authority is the service's
-- rollback_authority; the entry "release_managers" (or "release_manager")
-- stands for the service's release_managers. A service with no
-- rollback_authority falls back to its release_managers; with neither,
-- every rollback is a finding. People are compared by their keys
-- (trimmed, lower-cased in staging). outcome: evidence (the trigger is in
-- the authority) or failed.
with checked as (
    select d.deployment_id, d.service, d.environment, d.status, d.version, d.triggered_by,
           d.triggered_by_key, d.rollback_of, d.finished_at, d.url, s.rollback_authority, s.release_managers,
           list_concat(
               coalesce(s.rollback_authority_keys, []::varchar[]),
               case when len(coalesce(s.rollback_authority_keys, []::varchar[])) = 0
                      or list_has_any(s.rollback_authority_keys, ['release_managers', 'release_manager'])
                    then coalesce(s.release_manager_keys, []::varchar[]) else []::varchar[] end) as allowed
    from fct_deployments d
    left join dim_services s on s.service = d.service
    where d.is_production and d.is_rollback
      and d.finished_at >= $from and d.finished_at < $to
)
select deployment_id as subject,
       deployment_id, service, environment, status, version, rollback_of,
       finished_at, triggered_by, rollback_authority, release_managers, url as deployment_url,
       case
           when len(allowed) > 0 and list_contains(allowed, triggered_by_key) then 'evidence'
           else 'failed'
       end as outcome,
       case
           when len(allowed) = 0 then 'service ' || service || ' names no rollback authority'
           when triggered_by_key is null then 'rollback with no recorded trigger'
           when not list_contains(allowed, triggered_by_key) then triggered_by || ' is outside the rollback authority'
       end as rule
from checked
order by finished_at, deployment_id
