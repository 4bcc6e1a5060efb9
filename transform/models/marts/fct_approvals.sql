-- Approval decisions on change requests, one row per request, approver and
-- decision time, with approver_key (trimmed, lower-cased) for comparing
-- people and whether the request exists.
-- test: not_null(change_request, approver, approver_key, decision, decided_at)
-- test: accepted_values(decision: approved, rejected)
-- test: not_null(request_found)
select
    a.change_request,
    a.approver,
    a.approver_key,
    a.role,
    a.decision,
    a.decided_at,
    r.change_request is not null as request_found
from stg_approvals a
left join stg_change_requests r on r.change_request = a.change_request
order by a.decided_at, a.change_request, a.approver_key
