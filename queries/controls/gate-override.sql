-- name: gate-override
-- description: Releases deployed to production after a NO-GO gate decision without a recorded override
-- audience: audit
-- kind: control
-- population: production deployments
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
--
-- Subject: one successful production deployment finished in [from, to)
-- for whose service and version (or commit) `shiplog gate` recorded a
-- decision before the deployment started (its finish when no start is
-- recorded). The latest such decision counts: no-go is a finding; go, or
-- an override (a NO-GO released with a reason), passes. Deployments never
-- gated are not examined (fct_gate_decisions: the decisions, with the
-- service as a key like every service name). outcome: evidence (GO),
-- override (a NO-GO released with a recorded reason: who overrode it is
-- decided_by, why override_reason, what failed failed_criteria), failed.
with deploys as (
    select d.deployment_id, d.service, d.version, d.commit_sha, d.triggered_by, d.finished_at, d.url,
           d.effective_started_at as started_at
    from fct_deployments d
    where d.is_production and d.status = 'success'
      and d.finished_at >= $from and d.finished_at < $to
),
latest as (
    select d.*, g.decision_id, g.decision, g.decided_by, g.decided_at, g.override_reason, g.failed_criteria
    from deploys d
    join fct_gate_decisions g
      on g.service = d.service
     and (g.version = d.version or (g.commit_sha is not null and g.commit_sha = d.commit_sha))
     and g.decided_at <= d.started_at
    qualify row_number() over (partition by d.deployment_id order by g.decided_at desc, g.decision_id desc) = 1
)
select deployment_id as subject,
       deployment_id, service, version, commit_sha, triggered_by, started_at, finished_at,
       decision_id, decision, failed_criteria, decided_by, decided_at, override_reason,
       url as deployment_url,
       case decision when 'go' then 'evidence' when 'override' then 'override' else 'failed' end as outcome,
       case when decision = 'no-go' then 'deployed after a NO-GO gate decision without an override reason' end as rule
from latest
order by finished_at, deployment_id
