-- 0030: when a run found still `running` by the next process to open the
-- warehouse for writing was marked `interrupted` (its own process died:
-- DuckDB lets one process write a file, so a running row seen at open
-- belongs to no live run).
ALTER TABLE ingest_runs ADD COLUMN interrupted_at TIMESTAMPTZ;
