-- Change requests with what the approval rule decides about each: the one
-- home of "approved". approval_state:
--   pre_approved  standard risk, and controls.pre_approved_standard is on
--                 (needs no approval decision, whatever its status says)
--   rejected, cancelled, draft   its status (no approval counts then)
--   unapproved    no approving decision recorded
--   approved      at least one approving decision
-- is_approved is true for pre_approved and approved; approved_at is when
-- it became approved: its first approving decision, NULL for pre_approved
-- (approved from the start) and for a request that is not approved.
-- first_approved_at is the first approving decision whatever the state
-- (evidence). A request is approved at an instant t when is_approved and
-- approved_at is NULL or at or before t: a deployment under it at its
-- start (fct_deployments.approval_state), the release gate at its clock.
-- is_scheduled: a submitted, approved or implemented request with a
-- planned window (planned_start and planned_end), the requests a release
-- calendar shows.
-- approvers and deployers are people keys (trimmed, lower-cased): who
-- approved it, and who triggered any deployment (any environment, any
-- status) that names it; first_deployed_at is the first such deployment's
-- finish.
-- approval_record is the evidence of every decision, in time order, as
-- auditors read it: "approver (role) approved 2026-09-22T22:01:49Z; …"
-- (role "no role" when none is recorded); NULL with no decision. url links
-- to the source record (Jira issue …) when the source gives one.
-- test: unique(change_request)
-- test: not_null(change_request, risk, status, requested_by, created_at, approval_state, is_approved, is_scheduled)
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
        list(distinct approver_key order by approver_key) filter (where decision = 'rejected') as rejected_by,
        string_agg(approver || ' (' || coalesce(nullif(trim(role), ''), 'no role') || ') ' || decision || ' '
                   || strftime(timezone('UTC', decided_at), '%Y-%m-%dT%H:%M:%SZ'), '; '
                   order by decided_at, approver_key, decision) as approval_record
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
        d.approval_record,
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
    case when approval_state = 'approved' then approved_at end as approved_at,
    approved_at as first_approved_at,
    status in ('submitted', 'approved', 'implemented')
        and planned_start is not null and planned_end is not null as is_scheduled,
    approvers,
    rejected_by,
    deployers,
    approval_record,
    url
from decided
order by created_at, change_request
