-- Each claimed change's first claim: of the successful production
-- deployments that list the change (explicit, rule_rank 1) or reached its
-- commits (commit_graph, rule_rank 2), the one that finished first; on a
-- tie in time, explicit before commit_graph. Integers only (the change's
-- row, the deployment's number, fixed-size aggregate states), which on
-- millions of groups costs far less than carrying ids as strings. A table
-- of its own: the time rule (int_links_time) applies only to the changes
-- missing here, so that its ASOF join sorts those few rather than every
-- change, and DuckDB releases the links' hash tables when this statement
-- ends.
with

claims as (
    select dep_idx, change_row, 1 as rule_rank, epoch_us(finished_at) * 4 + 1 as rank_key from int_links_explicit
    union all
    select dep_idx, change_row, 2, epoch_us(finished_at) * 4 + 2 from int_links_graph
)

select
    change_row,
    arg_min(dep_idx, rank_key)       as dep_idx,
    arg_min(rule_rank, rank_key)     as rule_rank
from claims
group by change_row
