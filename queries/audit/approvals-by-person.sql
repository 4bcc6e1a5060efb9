-- name: approvals-by-person
-- description: Every decision on a change request by person, with role and time, the request it decided, and whether the person also requested or deployed it (segregation of duties)
-- audience: audit
-- kind: query
-- param: person text ''
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
--
-- One row per approval decision taken in [from, to) (decided_at), by the
-- person named (their key: trimmed, any case; empty for everyone), in
-- person and time order. requested_it and deployed_it compare people keys
-- as the self-approval control does (fct_change_requests.requested_by_key,
-- deployers). Reads fct_approvals and fct_change_requests.
select a.approver, a.role, a.decision, a.decided_at,
       a.change_request, r.title, r.risk, r.status, r.services,
       r.requested_by, r.created_at,
       a.approver_key = r.requested_by_key as requested_it,
       coalesce(list_contains(r.deployers, a.approver_key), false) as deployed_it,
       r.url as request_url
from fct_approvals a
left join fct_change_requests r on r.change_request = a.change_request
where a.decided_at >= $from and a.decided_at < $to
  and ($person = '' or a.approver_key = lower(trim($person)))
order by a.approver_key, a.decided_at, a.change_request
