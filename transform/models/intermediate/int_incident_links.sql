-- Each incident (not a false positive) with the one deployment it is blamed
-- on and why, strongest first: it names the deployment (incident); its
-- root_cause_sha is a commit the deployment shipped (root_cause_commit); or,
-- for an incident that claims no cause at all (neither field set),
-- severity in the configured set, opened after the latest successful
-- production deployment of its service finished and within the
-- attribution window (time_window). A claim beats a guess: an incident
-- whose claim matches no successful production deployment (it names a
-- staging deployment, or a commit none shipped) stays unattributed rather
-- than being blamed by time on whatever deployment came before it. The ASOF join
-- picks the latest deployment that finished before the incident opened, so
-- an incident after the next deployment is that one's, never the earlier.
-- Joins as written: each builds its hash table on the few incidents,
-- root-cause shas or their matches (on the right), and reads the
-- deployments, commits, walk and links (left) without hashing them.
-- join_order: as written
with

settings as (
    select * from cfg
),

incidents as (
    select * from stg_incidents where not is_false_positive
),

deployments as (
    select deployment_id, service, finished_at, commit_sha from int_prod_deployments
),

named as (
    select i.incident_id, d.deployment_id, 'incident' as reason, 1 as strength
    from deployments d
    join incidents i on i.caused_by_deployment = d.deployment_id
),

root_shas as (
    select distinct root_cause_sha as sha from incidents where root_cause_sha is not null
),

-- changes holding a root-cause sha: a few among millions, found before
-- anything joins their deployments (materialized, so that the planner
-- cannot join every change to its deployment first)
root_changes as materialized (
    select s.change_row, s.sha
    from int_change_shas s
    semi join root_shas r on r.sha = s.sha
),

shipped as (
    select d.deployment_id, d.finished_at, d.commit_sha as sha
    from deployments d
    semi join root_shas r on r.sha = d.commit_sha
    union all
    select d.deployment_id, d.finished_at, w.sha
    from int_prod_deployments d
    join (
        select w.dep_idx, c.sha
        from int_commit_walk w
        join (
            select c.commit_id, c.sha
            from int_commits c
            semi join root_shas r on r.sha = c.sha
        ) c on c.commit_id = w.commit_id
    ) w on w.dep_idx = d.dep_idx
    union all
    -- the deployment each change first shipped in (as fct_deployment_changes
    -- has it), found by integers rather than by reading every change's id
    select d.deployment_id, d.finished_at, l.sha
    from int_prod_deployments d
    join (
        select l.dep_idx, s.sha
        from int_first_links l
        join root_changes s on s.change_row = l.change_row
    ) l on l.dep_idx = d.dep_idx
),

by_root as (
    select i.incident_id, s.deployment_id, 'root_cause_commit' as reason, 2 as strength
    from incidents i
    join shipped s on s.sha = i.root_cause_sha
    qualify row_number() over (partition by i.incident_id order by s.finished_at, s.deployment_id) = 1
),

candidates as (
    select i.*
    from incidents i
    cross join settings s
    where list_contains(s.failure_severities, i.severity)
      and i.caused_by_deployment is null
      and i.root_cause_sha is null
),

timed as (
    select c.incident_id, d.deployment_id, 'time_window' as reason, 3 as strength
    from candidates c
    asof join deployments d on c.service = d.service and c.opened_at > d.finished_at
    cross join settings s
    where c.opened_at <= d.finished_at + s.attribution_window
),

linked as (
    select * from named
    union all
    select * from by_root
    union all
    select * from timed
)

select incident_id, deployment_id, reason
from linked
qualify row_number() over (partition by incident_id order by strength) = 1
