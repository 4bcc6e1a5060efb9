-- materialized: view
-- incremental: service
-- Changes with their first production deployment, lead time and stages
-- (hours). excluded_reason says why a change is left out of lead time,
-- the first that applies of: not_deployed, other_granularity (a pull
-- request of a service whose lead time is counted per commit), bot (author
-- matches metrics.exclude_authors), pattern (title matches
-- metrics.exclude_title_patterns), pre_tracking (first commit before the
-- first successful production deployment of the service it shipped with
-- finished) or non_positive (lead time <= 0). granularity is 'commit'
-- for a commit-level change (a commit a production deployment first
-- shipped, for a service with no change records or with
-- metrics.lead_time_from: commits), else 'change' (a change record: a pull
-- or merge request, or a change event). A commit has no pull request, so
-- its coding, pickup, review and deploy stages are NULL, never 0.
-- The first deployment is the earliest successful production deployment
-- that claims the change (an explicit list, or the commit graph; explicit
-- first on a tie), or, when none claims it, the earliest the time rule
-- links it to; fct_deployment_changes shows these links. deployed_service
-- and deployed_team are that deployment's service and team: where the
-- change counts, whether or not its own service is declared.
-- Stages: coding = first commit -> opened, pickup = opened -> first review,
-- review = first review -> merged, deploy = merged -> deployed. A stage
-- whose end came before its start (a review recorded before the pull
-- request was opened, a merge after the deployment that shipped it) is
-- clamped to 0 and named in stage_anomaly (comma-separated, in stage
-- order; NULL when every stage is in order). lead_time_hours is not
-- clamped: a non-positive one is excluded instead.
-- A view of fct_change_rows: the rule and reason names and the hours are
-- worked out from each row when read, which costs far less than storing
-- them; a plain projection (no CTE), so that readers' filters reach the
-- table's scan. The view shows that table's rows one for one, so the tests
-- run there, on the stored codes (every code has its name here).
select
    r.change_id,
    r.service,
    r.team,
    r.repo,
    r.title,
    r.author,
    r.first_commit_at,
    r.opened_at,
    r.first_review_at,
    r.approved_at,
    r.merged_at,
    r.approvals,
    r.is_revert,
    r.deployment_id,
    r.deployed_at,
    case r.link_rule_code when 1 then 'explicit' when 2 then 'commit_graph' when 3 then 'time' end as link_rule,
    (epoch_us(r.deployed_at) - epoch_us(r.first_commit_at)) / 3600e6  as lead_time_hours,
    case when r.opened_at < r.first_commit_at then 0
         else (epoch_us(r.opened_at) - epoch_us(r.first_commit_at)) / 3600e6 end      as coding_hours,
    case when r.first_review_at < r.opened_at then 0
         else (epoch_us(r.first_review_at) - epoch_us(r.opened_at)) / 3600e6 end      as pickup_hours,
    case when r.merged_at < r.first_review_at then 0
         else (epoch_us(r.merged_at) - epoch_us(r.first_review_at)) / 3600e6 end      as review_hours,
    case when r.deployed_at < r.merged_at then 0
         else (epoch_us(r.deployed_at) - epoch_us(r.merged_at)) / 3600e6 end          as deploy_hours,
    case r.excluded_code when 1 then 'non_positive' when 2 then 'pre_tracking' when 3 then 'not_deployed'
                         when 4 then 'bot' when 5 then 'pattern' when 6 then 'other_granularity' end as excluded_reason,
    r.deployed_service,
    r.deployed_team,
    nullif(concat_ws(',',
        case when r.opened_at < r.first_commit_at then 'coding' end,
        case when r.first_review_at < r.opened_at then 'pickup' end,
        case when r.merged_at < r.first_review_at then 'review' end,
        case when r.deployed_at < r.merged_at then 'deploy' end), '') as stage_anomaly,
    case when r.is_commit then 'commit' else 'change' end as granularity
from fct_change_rows r
