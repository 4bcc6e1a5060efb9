-- Approval decisions on change requests. The approver is trimmed, with
-- approver_key lower-cased for comparing people (`Dana ` is `dana`, but
-- alex.kim@payments.example is not alex.kim@shop.example). The same
-- decision (request, approver, time) sent by several sources is kept once,
-- from the first source by name.
-- test: accepted_values(decision: approved, rejected)
select
    change_request,
    trim(approver)                      as approver,
    lower(trim(approver))               as approver_key,
    role,
    decision,
    decided_at
from approvals
qualify row_number() over (
    partition by change_request, lower(trim(approver)), decided_at
    order by source) = 1
