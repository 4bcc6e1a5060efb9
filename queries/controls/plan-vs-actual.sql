-- name: plan-vs-actual
-- description: Implemented change requests with no matching deployment, and deployments of a service their change request did not name
-- audience: audit
-- kind: control
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
-- param: production text 'production,prod'
--
-- Two kinds of subject. A change request with status implemented and
-- implemented in [from, to) (created_at when implemented_at is missing)
-- needs a successful production deployment that names it in
-- change_request. A successful production deployment finished in
-- [from, to) that names a change request must be of a service listed in
-- the request's services.
with prod as (
    select d.*
    from deployments d
    where list_contains(list_transform(string_split($production, ','), e -> trim(e)), d.environment)
      and d.status = 'success'
),
implemented as (
    select cr.*
    from change_requests cr
    where cr.status = 'implemented'
      and coalesce(cr.implemented_at, cr.created_at) >= $from
      and coalesce(cr.implemented_at, cr.created_at) < $to
),
request_rows as (
    select 'change_request:' || cr.id as subject,
           cr.id as change_request, cr.services as planned_services,
           cr.implemented_at, null::varchar as deployment_id, null::varchar as service,
           null::timestamptz as finished_at,
           case when not exists (select 1 from prod p where p.change_request = cr.id)
                then 'implemented change request has no production deployment' end as rule
    from implemented cr
),
deployment_rows as (
    select 'deployment:' || p.id as subject,
           cr.id as change_request, cr.services as planned_services,
           cr.implemented_at, p.id as deployment_id, p.service, p.finished_at,
           case when not list_contains(cr.services, p.service)
                then 'deployed service ' || p.service || ' is not named by ' || cr.id end as rule
    from prod p
    join change_requests cr on cr.id = p.change_request
    where p.finished_at >= $from and p.finished_at < $to
)
select * from request_rows
union all
select * from deployment_rows
order by change_request, subject
