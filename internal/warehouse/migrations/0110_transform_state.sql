-- 0110: what the last transform was built from, so that the next one can
-- rebuild only what changed since (transform/incremental.go).
--
-- transform_state holds one row: the fingerprint of the models, the
-- settings they read (the cfg row and the run's constants) and the schema
-- version the marts were built with (a different fingerprint forces a full
-- rebuild), when and how they were built, and whether the build placed
-- monorepo changes by path (an incremental run then rebuilds fully).
CREATE TABLE transform_state (
    fingerprint  VARCHAR NOT NULL,
    built_at     TIMESTAMPTZ NOT NULL,
    mode         VARCHAR NOT NULL,      -- full or incremental
    reason       VARCHAR,               -- why a full rebuild ran
    services     BIGINT,                -- services rebuilt by an incremental run
    placements   BOOLEAN NOT NULL       -- int_change_placements had rows
);

-- transform_digests: per canonical table and partition (the service key,
-- a commit's repository, a change request's id; NULL for the whole
-- table), the row count and the sum of the rows' hashes when the marts
-- were last built. A partition whose digest differs now holds new,
-- changed or removed rows, whichever writer put them there.
CREATE TABLE transform_digests (
    "table"  VARCHAR NOT NULL,
    part     VARCHAR,
    "rows"   BIGINT NOT NULL,
    digest   HUGEINT NOT NULL
);
