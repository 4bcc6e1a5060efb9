-- name: outside-window
-- description: Production deployments outside their change request's planned window, or inside a configured freeze
-- audience: audit
-- kind: control
-- population: production deployments
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
--
-- Subject: one production deployment (success or failure) finished in
-- [from, to). Both decisions are made once, in the models:
-- fct_deployments.window_state says whether it ran inside its change
-- request's planned window (started, or finished when no start is
-- recorded, at or after planned_start and finished at or before
-- planned_end; a request without a planned window is not checked), and
-- fct_deployments.freezes names the configured freezes (calendar.freezes,
-- each resolved in its time zone: dim_freezes) it ran inside at any
-- moment of [start, end). One finding per broken window and per freeze.
-- Every row shows the request's planned window and its approvals (who,
-- role, time), a freeze finding too: the finding is the freeze, and the
-- rule says so, not an absent window. outcome: evidence (inside its
-- request's window, in no freeze), not_required (no planned window to
-- check, in no freeze), failed.
with deploys as (
    select d.deployment_id, d.service, d.environment, d.version, d.triggered_by, d.change_request,
           d.effective_started_at as started_at, d.finished_at, d.window_state, d.freezes,
           d.url as deployment_url, r.planned_start, r.planned_end, r.approval_record, r.url as request_url
    from fct_deployments d
    left join fct_change_requests r on r.change_request = d.change_request
    where d.is_production and d.status in ('success', 'failure')
      and d.finished_at >= $from and d.finished_at < $to
),
window_findings as (
    select deployment_id, 'outside the planned window of ' || change_request as rule, null::varchar as freeze
    from deploys
    where window_state = 'outside'
),
freeze_findings as (
    select deployment_id, 'inside the freeze ' || name as rule, name as freeze
    from (select deployment_id, unnest(freezes) as name from deploys where freezes is not null)
),
findings as (
    select * from window_findings
    union all
    select * from freeze_findings
)
select d.deployment_id as subject,
       d.deployment_id, d.service, d.environment, d.version, d.triggered_by,
       d.started_at, d.finished_at, d.change_request,
       d.planned_start, d.planned_end, d.approval_record as approvals, f.freeze,
       d.deployment_url, d.request_url,
       case
           when f.rule is not null then 'failed'
           when d.window_state = 'inside' then 'evidence'
           else 'not_required'
       end as outcome,
       f.rule
from deploys d
left join findings f on f.deployment_id = d.deployment_id
order by d.finished_at, d.deployment_id, f.rule
