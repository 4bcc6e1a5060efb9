-- name: self-approval
-- description: Change requests approved only by their requester, or approved by a person who deployed them
-- audience: audit
-- kind: control
-- population: change requests
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
--
-- Subject: one change request created in [from, to) with at least one
-- approving decision. People are compared by their keys (trimmed,
-- lower-cased in staging); a namesake with a different identifier is a
-- different person. The deployers are the people who triggered any
-- deployment naming the request (fct_change_requests.deployers). A request
-- fails when its requester is its only approver, or when any approver also
-- deployed it: segregation of duties is broken by the deployer's approval
-- even if others approved too. outcome: evidence (approved by someone
-- other than the requester, and no approver deployed it) or failed;
-- approvals lists every decision with who, role and time.
with checked as (
    select r.change_request, r.requested_by, r.requested_by_key, r.created_at, r.risk, r.status,
           r.approvers, r.deployers, r.approval_record, r.url,
           list_filter(r.approvers, lambda x: list_contains(r.deployers, x)) as deployer_approvers
    from fct_change_requests r
    where r.created_at >= $from and r.created_at < $to
      and len(r.approvers) > 0
)
select change_request as subject,
       change_request, requested_by, created_at, risk, status,
       approvers, deployers, approval_record as approvals, url as request_url,
       case
           when approvers = [requested_by_key] or len(deployer_approvers) > 0 then 'failed'
           else 'evidence'
       end as outcome,
       case
           when approvers = [requested_by_key] then 'approved only by its requester'
           when len(deployer_approvers) > 0 then 'approved by ' || array_to_string(deployer_approvers, ', ') || ', who deployed it'
       end as rule
from checked
order by created_at, change_request
