-- Every deployment, with the decisions the rules make about it. service
-- and environment are keys (trimmed, lower-cased); triggered_by_key the
-- person's. effective_started_at is started_at, else finished_at (the
-- instant governance rules compare with when no start was recorded).
-- Metrics (successful production deployments only):
--   is_production   environment among metrics.production_environments
--   is_staging      environment among calendar.staging_environments
--   is_failed, failure_reason, recovered_at, recovery_hours (fct_failures)
--   changes_shipped, link_rule (how its changes were found)
--   is_unplanned, unplanned_reason: rollback, hotfix, or a version,
--   branch or title matching the configured hotfix patterns (pattern)
-- Governance (production deployments, success or failure; NULL otherwise):
--   approval_state  no_change_request, request_not_found, or the request's
--                   state (fct_change_requests): pre_approved, rejected,
--                   cancelled, draft, unapproved; approved when its first
--                   approval came at or before effective_started_at, else
--                   approved_after_start. is_approved: pre_approved or approved.
--   window_state    inside or outside its request's planned window (started
--                   at or after planned_start and finished at or before
--                   planned_end); NULL when the request has no window
--   freezes         the freezes (dim_freezes) it ran inside at any moment:
--                   effective_started_at < end and finished_at >= start,
--                   applying to its service; NULL when none
-- url is the source's link to the deployment run (evidence), when given.
-- test: unique(deployment_id)
-- test: not_null(deployment_id, service, environment, status, finished_at, effective_started_at, is_production, is_staging, is_unplanned)
-- test: accepted_values(failure_reason: incident, root_cause_commit, rollback, hotfix, revert, version_rollback, time_window)
-- test: accepted_values(unplanned_reason: rollback, hotfix, pattern)
-- test: accepted_values(approval_state: no_change_request, request_not_found, pre_approved, rejected, cancelled, draft, unapproved, approved_after_start, approved)
-- test: accepted_values(window_state: inside, outside)
-- param: hotfix_regex text null
-- incremental: service
with

settings as (
    select * from cfg
),

flagged as (
    select
        d.*,
        case
            when d.is_rollback then 'rollback'
            when d.is_hotfix then 'hotfix'
            when coalesce(regexp_matches(d.version, getvariable('hotfix_regex'))
                       or regexp_matches(d.branch, getvariable('hotfix_regex'))
                       or regexp_matches(d.title, getvariable('hotfix_regex')), false) then 'pattern'
        end as unplanned_reason,
        list_contains(c.production_environments, d.environment) as is_production,
        list_contains(c.staging_environments, d.environment) as is_staging,
        list_contains(c.production_environments, d.environment) and d.status in ('success', 'failure') as governed
    from stg_deployments d
    cross join settings c
),

-- changes each production deployment shipped first (the rows of
-- fct_deployment_changes), counted by deployment number
shipped as (
    select dep_idx, count(*) as changes_shipped
    from int_first_links
    group by dep_idx
),

decided as (
    select
        d.deployment_id,
        d.service,
        s.team,
        s.department,
        d.environment,
        d.is_production,
        d.status,
        d.started_at,
        d.finished_at,
        d.version,
        d.commit_sha,
        d.triggered_by,
        d.change_request,
        d.is_rollback,
        d.rollback_of,
        d.is_hotfix,
        d.hotfix_of,
        d.unplanned_reason is not null as is_unplanned,
        d.unplanned_reason,
        case when p.deployment_id is not null then f.deployment_id is not null end as is_failed,
        f.reason as failure_reason,
        f.recovered_at,
        f.recovery_hours,
        case when p.deployment_id is not null then coalesce(n.changes_shipped, 0) end as changes_shipped,
        p.link_rule,
        d.is_staging,
        d.start_ts as effective_started_at,
        d.triggered_by_key,
        d.url,
        -- governance: production deployments, success or failure; decided
        -- row by row (the request joins on its id, the freezes come from
        -- cfg's list, sorted by start), no second join of the deployments
        case
            when not d.governed then null
            when d.change_request is null then 'no_change_request'
            when r.change_request is null then 'request_not_found'
            when not r.is_approved then r.approval_state
            when r.approved_at is null or r.approved_at <= d.start_ts then r.approval_state
            else 'approved_after_start'
        end as approval_state,
        case
            when not d.governed or r.planned_start is null or r.planned_end is null then null
            when d.start_ts < r.planned_start or d.finished_at > r.planned_end then 'outside'
            else 'inside'
        end as window_state,
        case when d.governed and len(c.freezes) > 0 then
            nullif(list_transform(
                list_filter(c.freezes, lambda z: d.start_ts < z.end_at and d.finished_at >= z.start_at
                                             and (len(z.services) = 0 or list_contains(z.services, d.service))),
                lambda z: z.name), [])
        end as freezes
    from flagged d
    cross join settings c
    left join dim_services s on s.service = d.service
    left join int_prod_deployments p on p.deployment_id = d.deployment_id
    left join fct_failures f on f.deployment_id = d.deployment_id
    left join shipped n on n.dep_idx = p.dep_idx
    left join fct_change_requests r on r.change_request = d.change_request
)

select
    deployment_id, service, team, department, environment, is_production, status, started_at, finished_at,
    version, commit_sha, triggered_by, change_request, is_rollback, rollback_of, is_hotfix, hotfix_of,
    is_unplanned, unplanned_reason, is_failed, failure_reason, recovered_at, recovery_hours, changes_shipped,
    link_rule, is_staging, effective_started_at, triggered_by_key,
    approval_state,
    approval_state in ('pre_approved', 'approved') as is_approved,
    window_state,
    freezes,
    url
from decided
