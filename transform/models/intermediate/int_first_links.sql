-- Each linked change's first production deployment: the earliest successful
-- production deployment that any rule links it to (explicit before
-- commit_graph before time on a tie), with the rule (rule_rank: 1
-- explicit, 2 commit_graph, 3 time). Integers only (the change's row, the
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
    select dep_idx, change_row, 3, epoch_us(finished_at) * 4 + 3 from int_links_time
)

select
    change_row,
    arg_min(dep_idx, rank_key)       as dep_idx,
    arg_min(rule_rank, rank_key)     as rule_rank
from links
group by change_row
