-- 0001: the canonical event tables, the ingest ledger, rejects and source state.
--
-- Canonical tables hold one row per (source, natural key). They carry no
-- PRIMARY KEY constraint: bulk loads replace keys with an anti-join, which is
-- faster than index maintenance, and the key is documented per table below
-- and enforced by the loader. Times are TIMESTAMPTZ (UTC).

-- team records (kind "team"). Natural key: source, id.
CREATE TABLE teams (
    id                     VARCHAR NOT NULL,
    name                   VARCHAR,
    department             VARCHAR,
    extra                  JSON,
    source                 VARCHAR NOT NULL
);

-- service records (kind "service"). Natural key: source, id.
CREATE TABLE services (
    id                     VARCHAR NOT NULL,
    name                   VARCHAR,
    team                   VARCHAR NOT NULL,
    tier                   BIGINT,
    repo                   VARCHAR,
    paths                  VARCHAR[],
    depends_on             VARCHAR[],
    release_managers       VARCHAR[],
    rollback_authority     VARCHAR[],
    allowed_deployers      VARCHAR[],
    extra                  JSON,
    source                 VARCHAR NOT NULL
);

-- deployment records (kind "deployment"). Natural key: source, id.
CREATE TABLE deployments (
    id                     VARCHAR NOT NULL,
    service                VARCHAR NOT NULL,
    environment            VARCHAR NOT NULL,
    finished_at            TIMESTAMPTZ NOT NULL,
    started_at             TIMESTAMPTZ,
    status                 VARCHAR NOT NULL,
    version                VARCHAR,
    commit_sha             VARCHAR,
    previous_commit_sha    VARCHAR,
    changes                VARCHAR[],
    triggered_by           VARCHAR,
    is_rollback            BOOLEAN,
    rollback_of            VARCHAR,
    is_hotfix              BOOLEAN,
    hotfix_of              VARCHAR,
    change_request         VARCHAR,
    url                    VARCHAR,
    extra                  JSON,
    source                 VARCHAR NOT NULL
);

-- change records (kind "change"). Natural key: source, id.
CREATE TABLE changes (
    id                     VARCHAR NOT NULL,
    service                VARCHAR NOT NULL,
    repo                   VARCHAR,
    title                  VARCHAR,
    author                 VARCHAR,
    commit_shas            VARCHAR[],
    merge_commit_sha       VARCHAR,
    first_commit_at        TIMESTAMPTZ NOT NULL,
    opened_at              TIMESTAMPTZ,
    first_review_at        TIMESTAMPTZ,
    approved_at            TIMESTAMPTZ,
    merged_at              TIMESTAMPTZ,
    reviewers              VARCHAR[],
    approvals              BIGINT,
    is_revert              BOOLEAN,
    labels                 VARCHAR[],
    extra                  JSON,
    source                 VARCHAR NOT NULL
);

-- commit records (kind "commit"). Natural key: source, repo, sha.
CREATE TABLE commits (
    sha                    VARCHAR NOT NULL,
    repo                   VARCHAR NOT NULL,
    parents                VARCHAR[],
    authored_at            TIMESTAMPTZ NOT NULL,
    committed_at           TIMESTAMPTZ,
    author                 VARCHAR,
    extra                  JSON,
    source                 VARCHAR NOT NULL
);

-- incident records (kind "incident"). Natural key: source, id.
CREATE TABLE incidents (
    id                     VARCHAR NOT NULL,
    service                VARCHAR NOT NULL,
    severity               VARCHAR NOT NULL,
    title                  VARCHAR,
    opened_at              TIMESTAMPTZ NOT NULL,
    acknowledged_at        TIMESTAMPTZ,
    resolved_at            TIMESTAMPTZ,
    caused_by_deployment   VARCHAR,
    root_cause_sha         VARCHAR,
    is_false_positive      BOOLEAN,
    postmortem_url         VARCHAR,
    customer_impact        VARCHAR,
    extra                  JSON,
    source                 VARCHAR NOT NULL
);

-- change_request records (kind "change_request"). Natural key: source, id.
CREATE TABLE change_requests (
    id                     VARCHAR NOT NULL,
    services               VARCHAR[] NOT NULL,
    title                  VARCHAR,
    risk                   VARCHAR NOT NULL,
    requested_by           VARCHAR NOT NULL,
    created_at             TIMESTAMPTZ NOT NULL,
    planned_start          TIMESTAMPTZ,
    planned_end            TIMESTAMPTZ,
    status                 VARCHAR NOT NULL,
    implemented_at         TIMESTAMPTZ,
    reviewed_after_at      TIMESTAMPTZ,
    extra                  JSON,
    source                 VARCHAR NOT NULL
);

-- approval records (kind "approval"). Natural key: source, change_request, approver, decided_at.
CREATE TABLE approvals (
    change_request         VARCHAR NOT NULL,
    approver               VARCHAR NOT NULL,
    role                   VARCHAR,
    decision               VARCHAR NOT NULL,
    decided_at             TIMESTAMPTZ NOT NULL,
    extra                  JSON,
    source                 VARCHAR NOT NULL
);

-- support_ticket records (kind "support_ticket"). Natural key: source, id.
CREATE TABLE support_tickets (
    id                     VARCHAR NOT NULL,
    service                VARCHAR NOT NULL,
    created_at             TIMESTAMPTZ NOT NULL,
    resolved_at            TIMESTAMPTZ,
    priority               VARCHAR,
    category               VARCHAR,
    version                VARCHAR,
    incident               VARCHAR,
    extra                  JSON,
    source                 VARCHAR NOT NULL
);

-- test_run records (kind "test_run"). Natural key: source, id.
CREATE TABLE test_runs (
    id                     VARCHAR NOT NULL,
    service                VARCHAR NOT NULL,
    commit_sha             VARCHAR,
    version                VARCHAR,
    framework              VARCHAR,
    suite                  VARCHAR,
    started_at             TIMESTAMPTZ NOT NULL,
    tests                  BIGINT NOT NULL,
    passed                 BIGINT NOT NULL,
    failed                 BIGINT NOT NULL,
    skipped                BIGINT,
    duration_s             DOUBLE,
    required               BOOLEAN,
    extra                  JSON,
    source                 VARCHAR NOT NULL
);

-- adoption records (kind "adoption"). Natural key: source, service, feature, day.
CREATE TABLE adoption (
    service                VARCHAR NOT NULL,
    feature                VARCHAR NOT NULL,
    day                    DATE NOT NULL,
    active_users           BIGINT NOT NULL,
    eligible_users         BIGINT,
    version                VARCHAR,
    extra                  JSON,
    source                 VARCHAR NOT NULL
);

-- release_plan records (kind "release_plan"). Natural key: source, id.
CREATE TABLE release_plans (
    id                     VARCHAR NOT NULL,
    service                VARCHAR NOT NULL,
    version                VARCHAR NOT NULL,
    planned_at             TIMESTAMPTZ NOT NULL,
    window_start           TIMESTAMPTZ,
    window_end             TIMESTAMPTZ,
    environment            VARCHAR,
    extra                  JSON,
    source                 VARCHAR NOT NULL
);

-- One row per ingest run of any source.
CREATE SEQUENCE ingest_runs_seq START 1;
CREATE TABLE ingest_runs (
    id            BIGINT PRIMARY KEY DEFAULT nextval('ingest_runs_seq'),
    source        VARCHAR NOT NULL,        -- file, github, jira, git, junit, webhook ...
    target        VARCHAR,                 -- what was read: paths, repositories, projects
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ,
    rows_read     BIGINT NOT NULL DEFAULT 0,
    rows_written  BIGINT NOT NULL DEFAULT 0,
    rows_rejected BIGINT NOT NULL DEFAULT 0,
    cursor        VARCHAR,                 -- the source's cursor after the run, if any
    status        VARCHAR NOT NULL,        -- running, success, failed, partial
    error         VARCHAR
);

-- Records refused under --skip-invalid, with where they came from and why.
CREATE TABLE rejects (
    ingest_run  BIGINT NOT NULL,
    source      VARCHAR NOT NULL,
    location    VARCHAR NOT NULL,          -- file:line or file:row, or an API address
    kind        VARCHAR,
    field       VARCHAR,
    reason      VARCHAR NOT NULL,
    record      VARCHAR                    -- the record as received
);

-- Cursors, ETags and other small state a source keeps between runs.
CREATE TABLE source_state (
    source     VARCHAR NOT NULL,
    scope      VARCHAR NOT NULL,           -- e.g. a repository and endpoint
    key        VARCHAR NOT NULL,           -- e.g. cursor, etag
    value      VARCHAR,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, scope, key)
);
