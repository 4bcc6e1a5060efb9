-- 0003: raw tables of the Jira source (ingest/jira). Rows are what Jira
-- sent; the SQL in ingest/jira/sql maps them to the canonical tables.

-- One row per issue and section ("query": incidents, change_requests,
-- support_tickets) that fetched it. payload is the issue object exactly as
-- the search answered it (id, key, fields incl. custom fields, changelog).
-- gone_at / gone_reason are set by a full sync (--full) when the issue no
-- longer matches the section's JQL: deleted, moved:NEWKEY or left_query.
-- Gone issues are kept for the record but are no longer mapped.
-- Natural key: (query, key). Like the canonical tables, the raw tables carry
-- no PRIMARY KEY: the source replaces rows with DELETE + INSERT per page,
-- which is several times faster than an upsert through an index.
CREATE TABLE raw_jira_issues (
    query       VARCHAR NOT NULL,
    key         VARCHAR NOT NULL,
    id          VARCHAR NOT NULL,
    project     VARCHAR NOT NULL,
    updated     TIMESTAMPTZ,
    payload     JSON NOT NULL,
    fetched_at  TIMESTAMPTZ NOT NULL,
    gone_at     TIMESTAMPTZ,
    gone_reason VARCHAR
);

-- Changelog histories fetched from /rest/api/2/issue/{key}/changelog when
-- the changelog embedded in the search answer was cut short (total >
-- maxResults). One row per history entry, as received.
-- Natural key: (issue_key, history_id).
CREATE TABLE raw_jira_changelogs (
    issue_key   VARCHAR NOT NULL,
    history_id  VARCHAR NOT NULL,
    payload     JSON NOT NULL,
    fetched_at  TIMESTAMPTZ NOT NULL
);

-- Fix versions of the projects under sources.jira.releases, as received
-- from /rest/api/2/project/{key}/versions. Natural key: (project, id).
CREATE TABLE raw_jira_versions (
    project     VARCHAR NOT NULL,
    id          VARCHAR NOT NULL,
    payload     JSON NOT NULL,
    fetched_at  TIMESTAMPTZ NOT NULL
);
