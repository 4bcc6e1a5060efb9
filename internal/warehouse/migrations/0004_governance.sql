-- 0004: governance — per-test results from JUnit XML and release gate decisions.

-- One row per test case of an ingested JUnit report. run_id is the
-- test_runs.id of the suite the case belongs to (one test_run per
-- <testsuite>). flaky is true when the same test (classname, name) failed
-- and also passed for the same service and commit (or version, when no
-- commit is known) across files and runs. Natural key: source, run_id,
-- classname, name.
CREATE TABLE test_results (
    run_id      VARCHAR NOT NULL,
    suite       VARCHAR,
    classname   VARCHAR,
    name        VARCHAR NOT NULL,
    status      VARCHAR NOT NULL,          -- passed, failed, error, skipped
    duration_s  DOUBLE,
    message     VARCHAR,
    flaky       BOOLEAN NOT NULL DEFAULT false,
    source      VARCHAR NOT NULL
);

-- One row per `shiplog gate` evaluation. decision is go, no-go or override
-- (criteria failed, released anyway with override_reason). criteria is the
-- JSON list of {name, passed, evidence} the decision was made from.
CREATE SEQUENCE gate_decisions_seq START 1;
CREATE TABLE gate_decisions (
    id              BIGINT PRIMARY KEY DEFAULT nextval('gate_decisions_seq'),
    service         VARCHAR NOT NULL,
    version         VARCHAR,
    commit_sha      VARCHAR,
    decision        VARCHAR NOT NULL,
    criteria        JSON NOT NULL,
    decided_by      VARCHAR,
    decided_at      TIMESTAMPTZ NOT NULL,
    override_reason VARCHAR
);
