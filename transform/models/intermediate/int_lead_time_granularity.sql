-- What a change is for lead time, per service that has successful
-- production deployments: 'pull_requests' (the change records sources
-- send) or 'commits' (each commit a production deployment first ships,
-- int_commit_changes). metrics.lead_time_from decides: pull_requests or
-- commits for every service, or auto: commits for a service that no
-- change record names (no pull/merge-request source, no change events, as
-- sent or placed in a monorepo) and none of whose deployments lists the
-- changes it shipped (an explicit list ships change records, maybe of
-- another service), else pull requests. The one home of the choice:
-- int_commit_changes makes commit changes for 'commits' services only, and
-- fct_change_rows leaves a change record of such a service out of lead
-- time (other_granularity), so one service never mixes the two.
with

settings as (
    select lead_time_from from cfg
),

services as (
    select distinct service from int_prod_deployments
),

named as (
    select distinct c.service from stg_changes c
    union
    select distinct service from int_change_placements
    union
    select distinct service from int_prod_deployments where link_rule = 'explicit'
)

select
    s.service,
    n.service is not null as has_change_records,
    case
        when t.lead_time_from = 'commits' then 'commits'
        when t.lead_time_from = 'pull_requests' then 'pull_requests'
        when n.service is null then 'commits'
        else 'pull_requests'
    end as lead_time_from
from services s
cross join settings t
left join named n on n.service = s.service
