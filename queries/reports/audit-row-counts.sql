-- name: audit-row-counts
-- description: Row count of every canonical table when the marts were built: part of the data fingerprint of an audit report.
-- audience: audit
-- kind: query
select "table", "rows" from dim_canonical_tables
order by 1
