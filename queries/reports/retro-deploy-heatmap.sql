-- name: retro-deploy-heatmap
-- description: Successful production deployments by weekday and hour (UTC), every cell of the week present.
-- audience: retro
-- kind: query
-- param: team text ''
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
with deployments as (
    select isodow(timezone('UTC', finished_at)) as dow,
           hour(timezone('UTC', finished_at)) as hour
    from fct_deployments
    where is_production and status = 'success'
      and ($team = '' or team = $team)
      and finished_at >= $from and finished_at < $to
),
grid as (
    select d.range as dow, h.range as hour
    from range(1, 8) d, range(0, 24) h
)
select ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][g.dow] as weekday,
       lpad(g.hour::varchar, 2, '0') as hour,
       count(d.dow) as deployments
from grid g
left join deployments d on d.dow = g.dow and d.hour = g.hour
group by g.dow, g.hour
order by g.dow, g.hour
