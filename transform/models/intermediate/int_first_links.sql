-- Each linked change's first production deployment, with the rule that
-- linked it (rule_rank: 1 explicit, 2 commit_graph, 3 time). A claim beats
-- a guess: when any deployment lists the change (explicit) or reached its
-- commits (commit_graph), the earliest of those deployments is its first
-- (int_first_claims), and time links are not considered, even from an
-- earlier deployment (int_links_time links only the changes no deployment
-- claims); only such a change goes to the earliest time link. A table of
-- its own: DuckDB holds every hash table of a statement until the
-- statement ends, so the linking's joins are done and released before
-- fct_change_rows joins and writes the wide rows.
select change_row, dep_idx, rule_rank
from int_first_claims
union all
select
    change_row,
    arg_min(dep_idx, finished_at)    as dep_idx,
    3                                as rule_rank
from int_links_time
group by change_row
