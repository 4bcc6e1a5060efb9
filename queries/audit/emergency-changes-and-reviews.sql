-- name: emergency-changes-and-reviews
-- description: Emergency change requests with who requested and approved them, their deployments, and when the post-implementation review came against its due day
-- audience: audit
-- kind: query
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
-- param: emergency_review_days int '5'
--
-- One row per emergency change request implemented in [from, to)
-- (implemented_at, else its first deployment's finish, as the
-- emergency-without-review control dates it). review_due is the UTC day
-- implemented + emergency_review_days (the control's rule);
-- review_days is the days from implementation to the review, NULL while
-- none is recorded. approvals is every decision with who, role and time
-- (fct_change_requests.approval_record); deployments lists the
-- deployments naming it, production or not. Reads fct_change_requests and
-- fct_deployments.
with

emergencies as (
    select r.change_request, r.title, r.services, r.status, r.requested_by, r.created_at,
           coalesce(r.implemented_at, r.first_deployed_at) as implemented_at,
           r.reviewed_after_at, r.approval_record as approvals, r.url as request_url
    from fct_change_requests r
    where r.risk = 'emergency'
),

deployed as (
    select change_request,
           list(deployment_id || ' (' || environment || ', ' || status || ')' order by finished_at, deployment_id) as deployments
    from fct_deployments
    where change_request is not null
    group by change_request
)

select e.change_request, e.title, e.services, e.status, e.requested_by, e.created_at,
       e.approvals, p.deployments, e.implemented_at,
       cast(timezone('UTC', e.implemented_at) as date) + $emergency_review_days::integer as review_due,
       e.reviewed_after_at,
       round((epoch(e.reviewed_after_at) - epoch(e.implemented_at)) / 86400.0, 1) as review_days,
       e.request_url
from emergencies e
left join deployed p on p.change_request = e.change_request
where e.implemented_at >= $from and e.implemented_at < $to
order by e.implemented_at, e.change_request
