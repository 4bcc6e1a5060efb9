-- 0040: raw tables of the GitLab source (ingest/gitlab). Each row is one
-- object as GitLab sent it (payload, JSON), the project's full path
-- (group/sub/name), its natural id and when it was fetched. The SQL in
-- ingest/gitlab/sql maps them to the canonical tables, so a changed rule
-- needs no re-fetch.
--
-- origin says which shape payload has: 'api' (the REST API's object) or
-- 'webhook' (the object_attributes-style body of a webhook delivery, stored
-- by `shiplog serve`); the staging SQL reads both. A webhook row keeps
-- updated_at NULL so that the next sync fetches the REST object again.
-- Like the canonical tables, raw tables carry no PRIMARY KEY: rows are
-- replaced with DELETE + INSERT per page.

-- GET /projects/:id/merge_requests?state=merged items. Key: project, iid.
CREATE TABLE raw_gitlab_merge_requests (
    project    VARCHAR NOT NULL,
    iid        BIGINT NOT NULL,
    updated_at TIMESTAMPTZ,
    origin     VARCHAR NOT NULL,
    payload    JSON NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL
);

-- GET /projects/:id/merge_requests/:iid/commits items, replaced as a set per
-- merge request. position is the order GitLab listed them in (newest
-- first). Key: project, iid, sha.
CREATE TABLE raw_gitlab_mr_commits (
    project    VARCHAR NOT NULL,
    iid        BIGINT NOT NULL,
    position   INTEGER NOT NULL,
    sha        VARCHAR NOT NULL,
    payload    JSON NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL
);

-- GET /projects/:id/merge_requests/:iid/approvals: one object per merge
-- request (approved_by with approved_at). Key: project, iid.
CREATE TABLE raw_gitlab_mr_approvals (
    project    VARCHAR NOT NULL,
    iid        BIGINT NOT NULL,
    payload    JSON NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL
);

-- GET /projects/:id/merge_requests/:iid/notes items (comments and system
-- notes), replaced as a set per merge request. Key: project, iid, id.
CREATE TABLE raw_gitlab_mr_notes (
    project    VARCHAR NOT NULL,
    iid        BIGINT NOT NULL,
    id         BIGINT NOT NULL,
    payload    JSON NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL
);

-- GET /projects/:id/deployments items, or deployment webhook deliveries.
-- Key: project, id.
CREATE TABLE raw_gitlab_deployments (
    project    VARCHAR NOT NULL,
    id         BIGINT NOT NULL,
    updated_at TIMESTAMPTZ,
    origin     VARCHAR NOT NULL,
    payload    JSON NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL
);

-- GET /projects/:id/pipelines items, or pipeline webhook deliveries.
-- Key: project, id.
CREATE TABLE raw_gitlab_pipelines (
    project    VARCHAR NOT NULL,
    id         BIGINT NOT NULL,
    updated_at TIMESTAMPTZ,
    origin     VARCHAR NOT NULL,
    payload    JSON NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL
);

-- GET /projects/:id/pipelines/:pipeline_id/jobs items of finished
-- pipelines, or the builds of a pipeline webhook delivery; replaced as a
-- set per pipeline. Key: project, id.
CREATE TABLE raw_gitlab_jobs (
    project     VARCHAR NOT NULL,
    pipeline_id BIGINT NOT NULL,
    id          BIGINT NOT NULL,
    origin      VARCHAR NOT NULL,
    payload     JSON NOT NULL,
    fetched_at  TIMESTAMPTZ NOT NULL
);

-- GET /projects/:id/pipelines/:pipeline_id/test_report_summary of finished
-- pipelines (only with pipelines.test_reports). Key: project, pipeline_id.
CREATE TABLE raw_gitlab_test_reports (
    project     VARCHAR NOT NULL,
    pipeline_id BIGINT NOT NULL,
    payload     JSON NOT NULL,
    fetched_at  TIMESTAMPTZ NOT NULL
);

-- GET /projects/:id/issues?issue_type=incident (and/or labels=…) items, or
-- issue webhook deliveries of incidents. Key: project, iid.
CREATE TABLE raw_gitlab_issues (
    project    VARCHAR NOT NULL,
    iid        BIGINT NOT NULL,
    updated_at TIMESTAMPTZ,
    origin     VARCHAR NOT NULL,
    payload    JSON NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL
);
