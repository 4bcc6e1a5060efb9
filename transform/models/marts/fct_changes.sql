-- materialized: view
-- Changes with their first production deployment, lead time and stages
-- (hours). excluded_reason says why a change is left out of lead time:
-- not_deployed, pre_tracking (first commit before the service's first
-- successful production deployment finished) or non_positive (lead time <= 0).
-- The first deployment is the earliest successful production deployment
-- that any rule links the change to (explicit before commit_graph before
-- time on a tie); fct_deployment_changes shows these links.
-- A view of fct_change_rows: the rule and reason names and the hours are
-- worked out from each row when read, which costs far less than storing
-- them. The view shows that table's rows one for one, so the tests run
-- there, on the stored codes (every code has its name here).
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
    (epoch_us(r.opened_at) - epoch_us(r.first_commit_at)) / 3600e6     as coding_hours,
    (epoch_us(r.first_review_at) - epoch_us(r.opened_at)) / 3600e6     as pickup_hours,
    (epoch_us(r.merged_at) - epoch_us(r.first_review_at)) / 3600e6     as review_hours,
    (epoch_us(r.deployed_at) - epoch_us(r.merged_at)) / 3600e6         as deploy_hours,
    case r.excluded_code when 1 then 'non_positive' when 2 then 'pre_tracking' when 3 then 'not_deployed' end as excluded_reason
from fct_change_rows r
