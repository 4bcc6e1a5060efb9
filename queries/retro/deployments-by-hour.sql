-- name: deployments-by-hour
-- description: Production deployments by weekday and hour of day, with how many failed
-- audience: retro
-- kind: query
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
-- param: time_zone text 'UTC'
-- param: service text ''
--
-- Reads fct_deployments: successful production deployments finished in
-- [from, to), placed by their finish in time_zone (an IANA name).
-- weekday is 1 = Monday … 7 = Sunday.
with deploys as (
    select timezone($time_zone, finished_at) as local_finish, is_failed
    from fct_deployments
    where is_production and status = 'success'
      and finished_at >= $from and finished_at < $to
      and ($service = '' or service = $service)
)
select isodow(local_finish) as weekday,
       dayname(local_finish) as weekday_name,
       hour(local_finish) as hour,
       count(*) as deployments,
       count(*) filter (where is_failed) as failed,
       round(count(*) filter (where is_failed) / count(*), 3) as change_failure_rate
from deploys
group by all
order by weekday, hour
