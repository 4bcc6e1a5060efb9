-- The earliest window start of a list of metric requests (see
-- metric_rows_many): a constant when the list is, so a filter on it skips
-- row groups.
-- materialized: macro
-- arguments: requests
list_min(list_transform(requests, lambda q: q.lo))
