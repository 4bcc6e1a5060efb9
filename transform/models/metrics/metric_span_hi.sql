-- The latest window end of a list of metric requests (see
-- metric_rows_many).
-- materialized: macro
-- arguments: requests
list_max(list_transform(requests, lambda q: q.hi))
