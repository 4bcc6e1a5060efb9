-- How many of the named macros the warehouse holds. duckdb_functions()
-- lists every built-in function too (tens of milliseconds): this runs only
-- to explain a failed call.
-- param: names text[] ''
select count(distinct function_name)
from duckdb_functions()
where schema_name = 'main' and function_type in ('macro', 'table_macro')
  and list_contains($names, function_name)
