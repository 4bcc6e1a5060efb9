-- 0210: a log of which partitions of the canonical tables a writer may
-- have changed, so that an incremental transform re-digests only those
-- (transform/incremental.go) instead of hashing every canonical row.
--
-- Every program path that writes a canonical table (or gate_decisions)
-- appends here in the transaction that writes the rows: one row per
-- (table, source, part) it may have touched, part being the partition
-- column's value as stored (internal/canonical.Partitions: a service, a
-- commit's repo, a change request id), or NULL for "every row of this
-- source in this table" (a mapper that rewrites its source, a first load
-- of a source, the tables not partitioned). The writers, kept complete by
-- a test in transform (TestWritersLogTheirPartitions):
--   ingest/file      loadBatch (LoadGroup, the quick path, `ingest file`)
--                    and GroupCommitter.fast (`serve` pushes)
--   ingest/git       the commit graph and tag deployments of a repository
--   ingest/junit     test_runs
--   ingest/github, ingest/gitlab, ingest/jira, ingest/pagerduty,
--   ingest/cdevents  mappers (Map, and webhooks that map in place)
--   gate             gate_decisions
-- A transform consumes the rows it read, in its own transaction; a write
-- rolled back leaves no row here. Writes by other programs (the DuckDB
-- CLI) are not logged: the transform compares row counts to catch rows
-- added or removed that way; an in-place UPDATE needs `transform --full`.
CREATE SEQUENCE canonical_writes_seq START 1;
CREATE TABLE canonical_writes (
    seq      BIGINT NOT NULL DEFAULT nextval('canonical_writes_seq'),
    "table"  VARCHAR NOT NULL,
    source   VARCHAR NOT NULL,
    part     VARCHAR            -- NULL: every row of source in table
);

-- The digests are now kept per source and per partition value as stored
-- (not trimmed or lower-cased), so that the rows one log entry names can
-- be summed again on their own. The old digests cannot be compared with
-- the new: the next transform rebuilds fully.
DROP TABLE transform_digests;
CREATE TABLE transform_digests (
    "table"  VARCHAR NOT NULL,
    source   VARCHAR NOT NULL,
    part     VARCHAR,
    "rows"   BIGINT NOT NULL,
    digest   HUGEINT NOT NULL
);
DELETE FROM transform_state;
