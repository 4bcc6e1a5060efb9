-- name: unapproved-production-change
-- description: Production deployments with no change request, or one not approved before the deployment started
-- audience: audit
-- kind: control
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
-- param: production text 'production,prod'
-- param: pre_approved_standard bool 'true'
--
-- Subject: one production deployment (success or failure) finished in
-- [from, to). A standard-risk request counts as pre-approved when
-- pre_approved_standard is true. "Approved before" means an approval with
-- decision approved decided at or before the deployment started (its
-- finish when no start is recorded), and the request not rejected,
-- cancelled or still a draft.
with deploys as (
    select d.*
    from deployments d
    where list_contains(list_transform(string_split($production, ','), e -> trim(e)), d.environment)
      and d.status in ('success', 'failure')
      and d.finished_at >= $from and d.finished_at < $to
),
decisions as (
    select a.change_request,
           min(a.decided_at) filter (where a.decision = 'approved') as first_approved_at
    from approvals a
    group by a.change_request
),
requests as (
    select cr.id, cr.risk, cr.status, cr.requested_by, dc.first_approved_at
    from change_requests cr
    left join decisions dc on dc.change_request = cr.id
),
checked as (
    select d.id as deployment_id, d.service, d.environment, d.version,
           d.started_at, d.finished_at, d.triggered_by, d.change_request,
           r.id is not null as request_found, r.risk, r.status as request_status,
           r.first_approved_at,
           coalesce(d.started_at, d.finished_at) as deploy_start
    from deploys d
    left join requests r on r.id = d.change_request
)
select deployment_id as subject,
       deployment_id, service, environment, version, started_at, finished_at,
       triggered_by, change_request, risk as request_risk, request_status,
       first_approved_at,
       case
           when change_request is null or trim(change_request) = '' then 'no change request'
           when not request_found then 'change request ' || change_request || ' not found'
           when risk = 'standard' and $pre_approved_standard then null
           when request_status in ('rejected', 'cancelled', 'draft') then 'change request is ' || request_status
           when first_approved_at is null then 'no approval recorded for the change request'
           when first_approved_at > deploy_start then 'change request approved only after the deployment started'
       end as rule
from checked
order by finished_at, deployment_id
