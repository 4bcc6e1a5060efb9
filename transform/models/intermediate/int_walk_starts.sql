-- Where the commit-graph walk starts and stops for each commit_graph
-- deployment: its commit, the previous successful production deployment's
-- commit (stop), and the time bound (that commit's time, else the previous
-- deployment's start), by integer commit id. When several sources send the
-- stop commit with different times, the earliest bound is kept: the walk is
-- monotone in the bound, so it reaches what walks from every copy's bound
-- would reach together; a copy without a time falls back to the previous
-- deployment's start. A walk is numbered by its deployment's dep_idx.
with

deployments as (
    select dep_idx, commit_id, prev_commit_id, prev_start_ts,
           prev_earliest_committed_at, prev_has_untimed_copy
    from int_prod_deployments
    where link_rule = 'commit_graph'
      and commit_sha is distinct from prev_commit_sha
)

select
    d.dep_idx                     as walk_id,
    d.commit_id,
    d.prev_commit_id              as stop_id,
    case
        when d.prev_commit_id is null then d.prev_start_ts
        when d.prev_has_untimed_copy and d.prev_start_ts is null then null
        when d.prev_has_untimed_copy then least(d.prev_earliest_committed_at, d.prev_start_ts)
        else d.prev_earliest_committed_at
    end                           as bound
from deployments d
