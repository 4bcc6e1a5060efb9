-- name: self-approval
-- description: Change requests approved only by their requester, or approved by a person who deployed them
-- audience: audit
-- kind: control
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
--
-- Subject: one change request created in [from, to) with at least one
-- approving decision. People are compared case-insensitively after
-- trimming; a namesake with a different identifier is a different person.
-- The deployers are the triggered_by of every deployment naming the
-- request. A request fails when its requester is its only approver, or
-- when any approver also deployed it: segregation of duties is broken by
-- the deployer's approval even if others approved too.
with requests as (
    select cr.id, cr.requested_by, cr.created_at, cr.risk, cr.status
    from change_requests cr
    where cr.created_at >= $from and cr.created_at < $to
),
approvers as (
    select a.change_request, list(distinct lower(trim(a.approver)) order by lower(trim(a.approver))) as approvers
    from approvals a
    where a.decision = 'approved'
    group by a.change_request
),
deployers as (
    select d.change_request, list(distinct lower(trim(d.triggered_by)) order by lower(trim(d.triggered_by))) as deployers
    from deployments d
    where d.change_request is not null and d.triggered_by is not null
    group by d.change_request
),
checked as (
    select r.id, r.requested_by, r.created_at, r.risk, r.status, a.approvers,
           coalesce(dp.deployers, []::varchar[]) as deployers,
           list_filter(a.approvers, x -> list_contains(coalesce(dp.deployers, []::varchar[]), x)) as deployer_approvers
    from requests r
    join approvers a on a.change_request = r.id
    left join deployers dp on dp.change_request = r.id
)
select id as subject,
       id as change_request, requested_by, created_at, risk, status,
       approvers, deployers,
       case
           when approvers = [lower(trim(requested_by))] then 'approved only by its requester'
           when len(deployer_approvers) > 0 then 'approved by ' || array_to_string(deployer_approvers, ', ') || ', who deployed it'
       end as rule
from checked
order by created_at, id
