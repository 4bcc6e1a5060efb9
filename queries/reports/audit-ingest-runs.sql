-- name: audit-ingest-runs
-- description: Every ingest run with its row counts: part of the data fingerprint of an audit report.
-- audience: audit
-- kind: query
select id, source, target, started_at, finished_at,
       rows_read, rows_written, rows_rejected, status
from ingest_runs
order by id
