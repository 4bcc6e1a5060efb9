-- name: changes-without-ticket
-- description: Changes that reached production in a deployment with no change request, or naming one that does not exist
-- audience: audit
-- kind: query
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
-- param: service text ''
--
-- One row per change whose first successful production deployment
-- (fct_deployment_changes, the link the metrics use) finished in [from,
-- to) and had no change request (fct_deployments.approval_state
-- no_change_request) or named one the warehouse does not hold
-- (request_not_found). A deployment that shipped no known change is
-- listed once with an empty change. Reads fct_deployments,
-- fct_deployment_changes and fct_changes.
with

deployments as (
    select d.deployment_id, d.service, d.version, d.finished_at, d.triggered_by,
           d.change_request, d.approval_state, d.url as deployment_url
    from fct_deployments d
    where d.approval_state in ('no_change_request', 'request_not_found')
      and d.status = 'success'
      and d.finished_at >= $from and d.finished_at < $to
      and ($service = '' or d.service = lower(trim($service)))
)

select d.deployment_id, d.service, d.version, d.finished_at, d.triggered_by,
       d.change_request, replace(d.approval_state, '_', ' ') as why,
       c.change_id, c.title, c.author, c.merged_at, c.approvals,
       d.deployment_url
from deployments d
left join fct_deployment_changes l on l.deployment_id = d.deployment_id
left join fct_changes c on c.change_id = l.change_id
order by d.finished_at, d.deployment_id, c.change_id
