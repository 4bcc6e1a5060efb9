-- The stored rows of fct_changes (the view readers use, which documents the
-- columns): each change with its first production deployment, the rule
-- that linked it (link_rule_code: 1 explicit, 2 commit_graph, 3 time) and
-- why lead time leaves it out (excluded_code: 1 non_positive, 2
-- pre_tracking, 3 not_deployed, 4 bot, 5 pattern, 6 other_granularity),
-- the first that applies in the order not_deployed, other_granularity (a
-- change record of a service whose lead time is counted per commit,
-- int_lead_time_granularity), bot (its author matches
-- metrics.exclude_authors), pattern (its title matches
-- metrics.exclude_title_patterns), pre_tracking, non_positive: what the
-- configuration excludes is named as such even when the data would have
-- excluded it too. is_commit marks a commit-level change
-- (int_commit_changes). What the view can work out from a row
-- alone (the rule and reason names, the hours) is not stored: writing seven
-- million rows costs about half a second per text column.
-- Each change's first deployment and its rule come from int_first_links.
-- deployed_service and deployed_team are the service (and its team, from
-- dim_services) of that deployment: the change counts there, whether or not
-- its own service is declared, since an explicit list may ship a change of
-- another service. The service's first production deployment that decides
-- pre_tracking is that of the deployed service too. What is read per
-- deployed service (team, first production deployment, lead-time
-- granularity) is joined to the 1.5 M deployments once, not looked up by
-- service for each of the seven million changes.
-- test: unique(change_id)
-- test: not_null(change_id, service, first_commit_at)
-- test: accepted_values(link_rule_code: 1, 2, 3)
-- test: accepted_values(excluded_code: 1, 2, 3, 4, 5, 6)
-- param: exclude_author_regex text null
-- param: exclude_title_regex text null
-- incremental: service
with

changes as (
    select * from int_changes
),

first_production as (
    select service, min(finished_at) as first_production_at
    from int_prod_deployments
    group by service
),

deployments as (
    select
        d.dep_idx,
        d.deployment_id,
        d.finished_at,
        d.service,
        ds.team,
        fp.first_production_at,
        g.lead_time_from
    from int_prod_deployments d
    left join dim_services ds on ds.service = d.service
    left join first_production fp on fp.service = d.service
    left join int_lead_time_granularity g on g.service = d.service
)

select
    c.change_id,
    c.service,
    s.team,
    c.repo,
    c.title,
    c.author,
    c.first_commit_at,
    c.opened_at,
    c.first_review_at,
    c.approved_at,
    c.merged_at,
    c.approvals,
    c.is_revert,
    d.deployment_id,
    d.finished_at as deployed_at,
    f.rule_rank::utinyint as link_rule_code,
    case
        when d.deployment_id is null then 3
        when not c.is_commit and d.lead_time_from = 'commits' then 6
        when coalesce(regexp_matches(trim(c.author), getvariable('exclude_author_regex')), false) then 4
        when coalesce(regexp_matches(c.title, getvariable('exclude_title_regex')), false) then 5
        when c.first_commit_at < d.first_production_at then 2
        when d.finished_at <= c.first_commit_at then 1
    end::utinyint as excluded_code,
    d.service as deployed_service,
    d.team as deployed_team,
    c.is_commit
from changes c
left join int_first_links f on f.change_row = c.change_row
left join deployments d on d.dep_idx = f.dep_idx
left join stg_services s on s.service = c.service
