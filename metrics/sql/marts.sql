-- How many of the named marts (tables and views) the warehouse holds.
-- param: names text[] ''
select count(distinct name)
from (
    select table_name as name from duckdb_tables() where schema_name = 'main'
    union all
    select view_name from duckdb_views() where schema_name = 'main'
)
where list_contains($names, name)
