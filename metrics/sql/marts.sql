-- How many of the named marts and macros the warehouse holds.
-- param: names text[] ''
select count(distinct name)
from (
    select table_name as name from duckdb_tables() where schema_name = 'main'
    union all
    select view_name from duckdb_views() where schema_name = 'main'
    union all
    select function_name from duckdb_functions() where schema_name = 'main' and function_type in ('macro', 'table_macro')
)
where list_contains($names, name)
