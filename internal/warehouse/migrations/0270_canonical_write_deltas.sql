-- 0270: the log of canonical writes carries the change each write made to
-- the digests (transform_digests), so that an incremental transform adds
-- the changes up instead of hashing the logged partitions' rows again.
--
-- A row is now one change to one partition: "rows" and digest are the
-- count and the sum of hash(t) of the rows inserted less those deleted
-- (internal/canonical.DeltaSQL), part the partition value as stored (NULL
-- for a table that is one partition, or a row whose value is NULL: it no
-- longer means "every row of the source"). Rows of one key add up.
-- Entries written before cannot be turned into changes: the next
-- transform rebuilds fully.
DROP TABLE canonical_writes;
CREATE TABLE canonical_writes (
    seq      BIGINT NOT NULL DEFAULT nextval('canonical_writes_seq'),
    "table"  VARCHAR NOT NULL,
    source   VARCHAR NOT NULL,
    part     VARCHAR,
    "rows"   BIGINT NOT NULL,
    digest   HUGEINT NOT NULL
);
DELETE FROM transform_state;
