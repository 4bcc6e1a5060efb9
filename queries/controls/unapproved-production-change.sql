-- name: unapproved-production-change
-- description: Production deployments with no change request, or one not approved before the deployment started
-- audience: audit
-- kind: control
-- population: production deployments
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
--
-- Subject: one production deployment (success or failure) finished in
-- [from, to). Whether it was approved is decided once, in the models
-- (fct_deployments.approval_state from fct_change_requests: a standard
-- request is pre-approved when controls.pre_approved_standard is on; a
-- rejected, cancelled or draft request is not approved; otherwise its first
-- approving decision must come at or before the deployment started, its
-- finish when no start is recorded). This control reads that decision and
-- words it.
-- outcome (every control has one, decided here, not by the caller):
-- evidence when an approving decision is recorded at or before the start,
-- pre_approved when the request is a standard change that the
-- configuration pre-approves (no decision needed or recorded), failed
-- otherwise. approvals lists every decision on the request with who, role
-- and time (fct_change_requests.approval_record).
select d.deployment_id as subject,
       d.deployment_id, d.service, d.environment, d.version, d.started_at, d.finished_at,
       d.triggered_by, d.change_request, r.risk as request_risk, r.status as request_status,
       r.planned_start, r.planned_end, r.approval_record as approvals,
       r.first_approved_at, d.approval_state,
       d.url as deployment_url, r.url as request_url,
       case
           when not d.is_approved then 'failed'
           when d.approval_state = 'pre_approved' then 'pre_approved'
           else 'evidence'
       end as outcome,
       case d.approval_state
           when 'no_change_request' then 'no change request'
           when 'request_not_found' then 'change request ' || d.change_request || ' not found'
           when 'rejected' then 'change request is rejected'
           when 'cancelled' then 'change request is cancelled'
           when 'draft' then 'change request is draft'
           when 'unapproved' then 'no approval recorded for the change request'
           when 'approved_after_start' then 'change request approved only after the deployment started'
       end as rule
from fct_deployments d
left join fct_change_requests r on r.change_request = d.change_request
where d.is_production and d.status in ('success', 'failure')
  and d.finished_at >= $from and d.finished_at < $to
order by d.finished_at, d.deployment_id
