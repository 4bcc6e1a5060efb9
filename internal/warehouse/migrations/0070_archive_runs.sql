-- 0070: one row per `shiplog report … --archive DIR` run. The heads form a
-- chain per archive folder (previous_head → head), kept here, outside the
-- folder, so that removing the last runs from an archive is detected: the
-- next archive run refuses to append when a recorded head is no longer in
-- the manifest, and `report verify DIR --expect HEAD` checks a head from
-- here.
CREATE SEQUENCE archive_runs_seq START 1;
CREATE TABLE archive_runs (
    id              BIGINT PRIMARY KEY DEFAULT nextval('archive_runs_seq'),
    archived_at     TIMESTAMPTZ NOT NULL,     -- the run's manifest time
    archive_dir     VARCHAR NOT NULL,         -- absolute path of the archive folder
    run_folder      VARCHAR NOT NULL,         -- the run's dated folder inside it
    reports         VARCHAR NOT NULL,         -- what was archived: leadership,retro,audit or dashboard:NAME
    period_from     TIMESTAMPTZ,              -- the period of the pages (period_to excluded)
    period_to       TIMESTAMPTZ,
    file_count      INTEGER NOT NULL,         -- files archived (SHA256SUMS not included)
    seq             INTEGER NOT NULL,         -- the run's manifest entry number
    previous_head   VARCHAR NOT NULL,         -- head before the run (64 zeros for the first)
    head            VARCHAR NOT NULL,         -- head after the run
    signed          BOOLEAN NOT NULL,         -- manifest signed with ARCHIVE_SIGNING_KEY
    shiplog_version VARCHAR                   -- NULL while the build carries no version
);
