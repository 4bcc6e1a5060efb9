-- Helpers for reading Jira's JSON. TEMP: they live on the mapping
-- connection only.

-- jira_scalar: the text of one field value. Jira writes select lists as
-- {"value": ...}, components and versions as {"name": ...}, users as
-- {"displayName": ...}, and plain text, numbers and dates as themselves.
CREATE OR REPLACE TEMP MACRO jira_scalar(j) AS
    CASE json_type(j)
        WHEN 'OBJECT' THEN coalesce(json_extract_string(j, 'value'), json_extract_string(j, 'name'), json_extract_string(j, 'displayName'), json_extract_string(j, 'key'))
        WHEN 'ARRAY'  THEN NULL
        WHEN 'NULL'   THEN NULL
        ELSE json_extract_string(j, '$')
    END;

-- jira_text: like jira_scalar, taking the first element of a list.
CREATE OR REPLACE TEMP MACRO jira_text(j) AS
    CASE json_type(j) WHEN 'ARRAY' THEN jira_scalar(json_extract(j, '$[0]')) ELSE jira_scalar(j) END;

-- jira_person: who a user object is. Email first (stable across Jira and
-- other tools), then the Data Center user name, then the display name, then
-- the Cloud account id.
CREATE OR REPLACE TEMP MACRO jira_person(u) AS
    nullif(coalesce(json_extract_string(u, 'emailAddress'), json_extract_string(u, 'name'), json_extract_string(u, 'displayName'), json_extract_string(u, 'accountId')), '');

-- jira_ts: a Jira time ("2024-03-05T09:12:44.000+0100") or date
-- ("2024-03-05", read as midnight UTC) as TIMESTAMPTZ.
CREATE OR REPLACE TEMP MACRO jira_ts(s) AS
    CASE
        WHEN s IS NULL OR s = '' THEN NULL
        WHEN length(s) = 10 THEN try_strptime(s || 'T00:00:00.000+0000', '%Y-%m-%dT%H:%M:%S.%g%z')
        ELSE coalesce(try_strptime(s, '%Y-%m-%dT%H:%M:%S.%g%z'), try_strptime(s, '%Y-%m-%dT%H:%M:%S%z'))
    END;
