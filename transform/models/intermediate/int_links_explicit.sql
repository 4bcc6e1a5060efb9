-- materialized: view
-- Rule (a): the deployment's explicit change list; an entry is a change id
-- or a commit sha of a change (merge commit or one of its commits). The
-- change may belong to any service: a list is the deployment's own claim
-- (a shared library, or a change filed under another service of a
-- monorepo, ships with it), unlike the commit graph, whose walk through a
-- shared history matches changes of the deployment's own service only.
with

refs as (
    select dep_idx, finished_at, unnest(changes) as ref
    from int_prod_deployments
    where link_rule = 'explicit'
),

by_id as (
    select r.dep_idx, r.finished_at, c.change_row
    from refs r
    join int_changes c on c.change_id = r.ref
),

-- the change shas a list names, found by hashing the lists' entries
-- (IN), not every change's shas: most lists name change ids
listed_shas as materialized (
    select s.change_row, s.sha
    from int_change_shas s
    where s.sha in (select ref from refs)
),

by_sha as (
    select r.dep_idx, r.finished_at, s.change_row
    from refs r
    join listed_shas s on s.sha = r.ref
)

select * from by_id
union all
select * from by_sha
