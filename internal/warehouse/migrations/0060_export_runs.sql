-- 0060: the runs of `shiplog export` and the partitions each one left in its
-- folder, so that `export --since` rewrites only partitions whose content
-- changed.

-- One row per export run. status: running (files being written), staged
-- (files complete, partitions recorded, folder not yet swapped in), done
-- (the folder holds this export), failed (error says why; the folder holds
-- the previous export). out_dir is the absolute path of --out.
CREATE SEQUENCE export_runs_seq START 1;
CREATE TABLE export_runs (
    id                  BIGINT PRIMARY KEY DEFAULT nextval('export_runs_seq'),
    out_dir             VARCHAR NOT NULL,
    format              VARCHAR NOT NULL,          -- parquet, csv
    tables              VARCHAR[] NOT NULL,
    since_run           BIGINT,                    -- the export it was incremental to
    started_at          TIMESTAMPTZ NOT NULL,
    finished_at         TIMESTAMPTZ,
    status              VARCHAR NOT NULL,
    shiplog_version     VARCHAR,
    duckdb_version      VARCHAR,
    rows                BIGINT,
    bytes               BIGINT,
    partitions_written  BIGINT,
    partitions_kept     BIGINT,
    error               VARCHAR
);

-- One row per table partition in an export's folder. part is the
-- month (YYYY-MM, or __HIVE_DEFAULT_PARTITION__ for rows without a time) or
-- '' for an unpartitioned table. content_hash is computed in DuckDB over the
-- partition's rows (see docs/export.md); schema_hash over the table's column
-- names and types. written_by is the export run that wrote the files (an
-- earlier run when the partition was kept).
CREATE TABLE export_partitions (
    export_run    BIGINT NOT NULL,
    table_name    VARCHAR NOT NULL,
    part          VARCHAR NOT NULL,
    rows          BIGINT NOT NULL,
    content_hash  VARCHAR NOT NULL,
    schema_hash   VARCHAR NOT NULL,
    written_by    BIGINT NOT NULL,
    PRIMARY KEY (export_run, table_name, part)
);
