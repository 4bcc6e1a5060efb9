-- Feature adoption after the release that shipped it: active users and share
-- of eligible users on the 1st, 7th and 30th day after the release day (UTC),
-- and days from the release day to the first day at the configured target
-- share. The release is the first successful production deployment of the
-- feature's version; without one, the feature's first adoption day.
-- test: unique(service, feature)
-- incremental: service
with

settings as (
    select * from cfg
),

adoption as (
    select * from stg_adoption
),

releases as (
    select service, version, min(finished_at) as released_at
    from int_prod_deployments
    where version is not null
    group by all
),

features as (
    select service, feature, max(version) as version, min(day) as first_day
    from adoption
    group by all
),

released as (
    select
        f.service,
        f.feature,
        f.version,
        coalesce(r.released_at, timezone('UTC', f.first_day::timestamp)) as released_at
    from features f
    left join releases r on r.service = f.service and r.version = f.version
),

days as (
    select
        r.*,
        a.day - cast(timezone('UTC', r.released_at) as date) as day_n,
        a.active_users,
        a.active_users / nullif(a.eligible_users, 0) as share
    from released r
    join adoption a on a.service = r.service and a.feature = r.feature
)

select
    d.service,
    d.feature,
    d.version,
    d.released_at,
    max(d.active_users) filter (where d.day_n = 1)  as day1_users,
    max(d.active_users) filter (where d.day_n = 7)  as day7_users,
    max(d.active_users) filter (where d.day_n = 30) as day30_users,
    max(d.share) filter (where d.day_n = 1)  as day1_share,
    max(d.share) filter (where d.day_n = 7)  as day7_share,
    max(d.share) filter (where d.day_n = 30) as day30_share,
    min(d.day_n) filter (where d.day_n >= 0 and d.share >= s.adoption_target) as days_to_target
from days d
cross join settings s
group by d.service, d.feature, d.version, d.released_at
