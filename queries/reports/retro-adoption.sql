-- name: retro-adoption
-- description: Share of eligible users using each feature released in the period, 1, 7 and 30 days after its release.
-- audience: retro
-- kind: query
-- param: team text ''
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
with features as (
    select a.service || ': ' || a.feature as feature, a.released_at,
           a.day1_share, a.day7_share, a.day30_share
    from fct_adoption a
    join dim_services d using (service)
    where ($team = '' or d.team = $team)
      and a.released_at >= $from and a.released_at < $to
)
select feature, 'day ' || day_number as day, round(share, 4) as share
from (
    select feature, released_at, 1 as day_number, day1_share as share from features
    union all select feature, released_at, 7, day7_share from features
    union all select feature, released_at, 30, day30_share from features
)
order by released_at, feature, day_number
