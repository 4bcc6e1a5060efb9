-- name: failure-rate-by-size
-- description: Change failure rate by deployment size (lines changed, or commits when line counts are missing)
-- audience: retro
-- kind: query
-- param: from timestamp '1970-01-01'
-- param: to timestamp '9999-12-31'
--
-- Reads fct_deployments, fct_changes and fct_change_sizes. A deployment's
-- size is the sum over the changes it shipped first of the lines changed (lines_changed:
-- extra.additions + extra.deletions, as GitHub pull requests carry them)
-- when every shipped change has them; otherwise the number of commits
-- (commits: commit_shas, 1 when none are listed). Buckets: lines 0–49 xs,
-- 50–199 s, 200–499 m, 500–999 l, 1000+ xl; commits 1 xs, 2–3 s, 4–7 m,
-- 8–15 l, 16+ xl. Deployments that shipped no known change are "unknown".
with deploys as (
    select deployment_id, is_failed
    from fct_deployments
    where is_production and status = 'success'
      and finished_at >= $from and finished_at < $to
),
sizes as (
    select c.deployment_id,
           count(*) as changes,
           count(z.lines_changed) as with_lines,
           sum(coalesce(z.lines_changed, 0)) as lines,
           sum(z.commits) as commits
    from fct_changes c
    join fct_change_sizes z using (change_id)
    where c.deployment_id is not null
    group by c.deployment_id
),
sized as (
    select d.deployment_id, d.is_failed,
           case when s.deployment_id is null then 'unknown'
                when s.with_lines = s.changes then 'lines' else 'commits' end as measure,
           case
               when s.deployment_id is null then 'unknown'
               when s.with_lines = s.changes then
                   case when s.lines < 50 then 'xs' when s.lines < 200 then 's' when s.lines < 500 then 'm'
                        when s.lines < 1000 then 'l' else 'xl' end
               else
                   case when s.commits <= 1 then 'xs' when s.commits <= 3 then 's' when s.commits <= 7 then 'm'
                        when s.commits <= 15 then 'l' else 'xl' end
           end as size
    from deploys d
    left join sizes s on s.deployment_id = d.deployment_id
)
select size, measure, count(*) as deployments,
       count(*) filter (where is_failed) as failed,
       round(count(*) filter (where is_failed) / count(*), 3) as change_failure_rate
from sized
group by size, measure
order by case size when 'xs' then 1 when 's' then 2 when 'm' then 3 when 'l' then 4 when 'xl' then 5 else 6 end, measure
