-- Each linked change's first production deployment, with the rule that
-- linked it (rule_rank: 1 explicit, 2 commit_graph, 3 time). A claim beats
-- a guess: when any deployment lists the change (explicit) or reached its
-- commits (commit_graph), the earliest of those deployments is its first,
-- and time links are not considered, even from an earlier deployment;
-- only a change that no deployment claims goes to the earliest time link.
-- On a tie in time, explicit comes before commit_graph. Integers only (the change's row, the
-- deployment's number, fixed-size aggregate states), which on millions of
-- groups costs far less than carrying ids as strings. A table of its own:
-- DuckDB holds every hash table of a statement until the statement ends, so
-- the linking's joins are done and released before fct_change_rows joins
-- and writes the wide rows.
with

links as (
    select dep_idx, change_row, 1 as rule_rank, epoch_us(finished_at) * 4 + 1 as rank_key from int_links_explicit
    union all
    select dep_idx, change_row, 2, epoch_us(finished_at) * 4 + 2 from int_links_graph
    union all
    -- 2^62 above every claim: a time link is chosen only when no claim
    -- exists (epoch microseconds × 4 stay below 2^55 until year 2255)
    select dep_idx, change_row, 3, epoch_us(finished_at) * 4 + 3 + 4611686018427387904 from int_links_time
)

select
    change_row,
    arg_min(dep_idx, rank_key)       as dep_idx,
    arg_min(rule_rank, rank_key)     as rule_rank
from links
group by change_row
