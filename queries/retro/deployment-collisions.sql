-- name: deployment-collisions
-- description: Production deployments of different services that ran in the same window
-- audience: retro
-- kind: query
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
-- param: gap_minutes int '15'
--
-- Reads fct_deployments: two successful production deployments of
-- different services collide when their runs (started_at to finished_at;
-- the finish alone when no start is recorded) overlap or come within
-- gap_minutes of each other. One row per pair, with whether either
-- failed — collisions make failures hard to attribute.
with deploys as (
    select deployment_id, service, team, coalesce(started_at, finished_at) as started_at, finished_at, is_failed
    from fct_deployments
    where is_production and status = 'success'
      and finished_at >= $from and finished_at < $to
)
select a.deployment_id as deployment_a, a.service as service_a, a.started_at as started_a, a.finished_at as finished_a,
       b.deployment_id as deployment_b, b.service as service_b, b.started_at as started_b, b.finished_at as finished_b,
       round(date_diff('second', greatest(a.started_at, b.started_at), least(a.finished_at, b.finished_at)) / 60.0, 1) as overlap_minutes,
       coalesce(a.is_failed, false) or coalesce(b.is_failed, false) as either_failed
from deploys a
join deploys b
  on a.service < b.service
 and a.started_at <= b.finished_at + to_minutes($gap_minutes)
 and b.started_at <= a.finished_at + to_minutes($gap_minutes)
order by a.started_at, a.deployment_id, b.deployment_id
