-- Successful production deployments (only the columns the later models
-- read) with their predecessor in the service's sequence (ordered by
-- finish) and the linking rule that applies to each:
-- an explicit change list → explicit; else a commit_sha known to the commit
-- graph → commit_graph; else → time.
with

settings as (
    select * from cfg
),

deployments as (
    select
        d.deployment_id,
        d.service,
        d.start_ts,
        d.finished_at,
        d.version,
        d.commit_sha,
        d.changes,
        d.rollback_of,
        d.hotfix_of
    from stg_deployments d
    cross join settings s
    where d.status = 'success'
      and list_contains(s.production_environments, d.environment)
),

graph as (
    select distinct c.sha
    from stg_commits c
    semi join deployments d on d.commit_sha = c.sha
),

sequenced as (
    select
        d.*,
        lag(d.start_ts) over w   as prev_start_ts,
        lag(d.commit_sha) over w as prev_commit_sha
    from deployments d
    window w as (partition by d.service order by d.finished_at, d.deployment_id)
)

select
    s.*,
    case
        when len(s.changes) > 0 then 'explicit'
        when g.sha is not null then 'commit_graph'
        else 'time'
    end as link_rule
from sequenced s
left join graph g on g.sha = s.commit_sha
