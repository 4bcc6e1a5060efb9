-- materialized: view
-- Rule (b): changes of the deployment's service whose commits the commit
-- graph walk reached (a change's shas are matched to commit ids once);
-- and each commit-level change at the deployment that first shipped it
-- (int_commit_changes, exact through the whole graph: the bounded walk can
-- never claim it earlier, so the earliest claim is that one).
with

change_commits as (
    select s.change_row, s.service, c.commit_id
    from int_change_shas s
    join int_commits c on c.sha = s.sha
),

walked as (
    select w.dep_idx, d.service, d.finished_at, w.commit_id
    from int_commit_walk w
    join int_prod_deployments d on d.dep_idx = w.dep_idx
)

select w.dep_idx, w.finished_at, s.change_row
from walked w
join change_commits s on s.commit_id = w.commit_id and s.service = w.service
union all
select c.dep_idx, d.finished_at, c.change_row
from int_commit_changes c
join int_prod_deployments d on d.dep_idx = c.dep_idx
