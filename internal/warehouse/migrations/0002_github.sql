-- Raw tables of the GitHub source (ingest/github). Each row is one object as
-- the REST API sent it (payload, JSON), the repository (owner/name), its
-- natural id and when it was fetched. The canonical rows are rebuilt from
-- these by the source's SQL mapping, so a changed rule needs no re-fetch.

-- GET /repos/{owner}/{repo}/pulls items. Key: repo, number.
CREATE TABLE raw_github_pulls (
    repo       VARCHAR NOT NULL,
    number     BIGINT NOT NULL,
    updated_at TIMESTAMPTZ,
    payload    JSON NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL
);

-- GET /repos/{owner}/{repo}/pulls/{number}/commits items, replaced as a set
-- per pull request (a force push drops commits). Key: repo, number, sha.
CREATE TABLE raw_github_pull_commits (
    repo       VARCHAR NOT NULL,
    number     BIGINT NOT NULL,
    position   INTEGER NOT NULL,
    sha        VARCHAR NOT NULL,
    payload    JSON NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL
);

-- GET /repos/{owner}/{repo}/pulls/{number}/files items, fetched only for
-- repositories hosting several services. Key: repo, number, filename.
CREATE TABLE raw_github_pull_files (
    repo       VARCHAR NOT NULL,
    number     BIGINT NOT NULL,
    filename   VARCHAR NOT NULL,
    payload    JSON NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL
);

-- GET /repos/{owner}/{repo}/pulls/{number}/reviews items. Key: repo, id.
CREATE TABLE raw_github_reviews (
    repo       VARCHAR NOT NULL,
    number     BIGINT NOT NULL,
    id         BIGINT NOT NULL,
    payload    JSON NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL
);

-- GET /repos/{owner}/{repo}/deployments items. Key: repo, id.
CREATE TABLE raw_github_deployments (
    repo       VARCHAR NOT NULL,
    id         BIGINT NOT NULL,
    created_at TIMESTAMPTZ,
    payload    JSON NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL
);

-- GET /repos/{owner}/{repo}/deployments/{id}/statuses items, replaced as a
-- set per deployment. Key: repo, id.
CREATE TABLE raw_github_deployment_statuses (
    repo          VARCHAR NOT NULL,
    deployment_id BIGINT NOT NULL,
    id            BIGINT NOT NULL,
    payload       JSON NOT NULL,
    fetched_at    TIMESTAMPTZ NOT NULL
);

-- GET /repos/{owner}/{repo}/releases items. Key: repo, id.
CREATE TABLE raw_github_releases (
    repo       VARCHAR NOT NULL,
    id         BIGINT NOT NULL,
    payload    JSON NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL
);

-- GET /repos/{owner}/{repo}/actions/workflows/{id}/runs items of the
-- configured deploy workflows. Key: repo, id.
CREATE TABLE raw_github_workflow_runs (
    repo        VARCHAR NOT NULL,
    id          BIGINT NOT NULL,
    workflow_id BIGINT NOT NULL,
    created_at  TIMESTAMPTZ,
    payload     JSON NOT NULL,
    fetched_at  TIMESTAMPTZ NOT NULL
);
