-- name: plan-vs-actual
-- description: Implemented change requests with no matching deployment, and deployments of a service their change request did not name
-- audience: audit
-- kind: control
-- population: change requests and deployments
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
--
-- Two kinds of subject. A change request with status implemented and
-- implemented in [from, to) (created_at when implemented_at is missing)
-- needs a successful production deployment that names it in
-- change_request. A successful production deployment finished in
-- [from, to) that names a change request must be of a service listed in
-- the request's services (service names compared as keys: trimmed,
-- lower-cased). outcome: evidence (a deployment names the request; the
-- request names the service) or failed.
with prod as (
    select d.deployment_id, d.service, d.change_request, d.finished_at, d.url
    from fct_deployments d
    where d.is_production and d.status = 'success'
),
implemented as (
    select r.*
    from fct_change_requests r
    where r.status = 'implemented'
      and coalesce(r.implemented_at, r.created_at) >= $from
      and coalesce(r.implemented_at, r.created_at) < $to
),
request_rows as (
    select 'change_request:' || r.change_request as subject,
           r.change_request, r.services as planned_services,
           r.implemented_at, null::varchar as deployment_id, null::varchar as service,
           null::timestamptz as finished_at, null::varchar as deployment_url, r.url as request_url,
           case when not exists (select 1 from prod p where p.change_request = r.change_request)
                then 'failed' else 'evidence' end as outcome,
           case when not exists (select 1 from prod p where p.change_request = r.change_request)
                then 'implemented change request has no production deployment' end as rule
    from implemented r
),
deployment_rows as (
    select 'deployment:' || p.deployment_id as subject,
           r.change_request, r.services as planned_services,
           r.implemented_at, p.deployment_id, p.service, p.finished_at, p.url as deployment_url, r.url as request_url,
           case when not list_contains(r.services, p.service) then 'failed' else 'evidence' end as outcome,
           case when not list_contains(r.services, p.service)
                then 'deployed service ' || p.service || ' is not named by ' || r.change_request end as rule
    from prod p
    join fct_change_requests r on r.change_request = p.change_request
    where p.finished_at >= $from and p.finished_at < $to
)
select * from request_rows
union all
select * from deployment_rows
order by change_request, subject
