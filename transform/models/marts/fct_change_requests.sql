-- Change requests with what the approval rule decides about each: the one
-- home of "approved". approval_state:
--   pre_approved  standard risk, and controls.pre_approved_standard is on
--                 (needs no approval decision, whatever its status says)
--   rejected, cancelled, draft   its status (no approval counts then)
--   unapproved    no approving decision recorded
--   approved      at least one approving decision
-- approved_at is the first approving decision (whatever the state), and
-- is_approved is true for pre_approved and approved. Whether a deployment
-- under the request was approved in time (approved_at at or before its
-- start) is fct_deployments.approval_state.
-- approvers and deployers are people keys (trimmed, lower-cased): who
-- approved it, and who triggered any deployment (any environment, any
-- status) that names it; first_deployed_at is the first such deployment's
-- finish.
-- test: unique(change_request)
-- test: not_null(change_request, risk, status, requested_by, created_at, approval_state, is_approved)
-- test: accepted_values(approval_state: pre_approved, rejected, cancelled, draft, unapproved, approved)
with

settings as (
    select * from cfg
),

requests as (
    select * from stg_change_requests
),

decisions as (
    select
        change_request,
        min(decided_at) filter (where decision = 'approved') as approved_at,
        list(distinct approver_key order by approver_key) filter (where decision = 'approved') as approvers,
        list(distinct approver_key order by approver_key) filter (where decision = 'rejected') as rejected_by
    from stg_approvals
    group by change_request
),

deployed as (
    select
        change_request,
        min(finished_at) as first_deployed_at,
        list(distinct triggered_by_key order by triggered_by_key) filter (where triggered_by_key is not null) as deployers
    from stg_deployments
    where change_request is not null
    group by change_request
),

decided as (
    select
        r.*,
        d.approved_at,
        coalesce(d.approvers, []::varchar[])   as approvers,
        coalesce(d.rejected_by, []::varchar[]) as rejected_by,
        p.first_deployed_at,
        coalesce(p.deployers, []::varchar[])   as deployers,
        case
            when r.risk = 'standard' and s.pre_approved_standard then 'pre_approved'
            when r.status in ('rejected', 'cancelled', 'draft') then r.status
            when d.approved_at is null then 'unapproved'
            else 'approved'
        end as approval_state
    from requests r
    cross join settings s
    left join decisions d on d.change_request = r.change_request
    left join deployed p on p.change_request = r.change_request
)

select
    change_request,
    title,
    services,
    risk,
    status,
    requested_by,
    requested_by_key,
    created_at,
    planned_start,
    planned_end,
    implemented_at,
    reviewed_after_at,
    first_deployed_at,
    approval_state,
    approval_state in ('pre_approved', 'approved') as is_approved,
    approved_at,
    approvers,
    rejected_by,
    deployers
from decided
order by created_at, change_request
