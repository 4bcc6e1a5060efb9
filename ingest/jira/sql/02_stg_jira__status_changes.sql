-- Staging: every status transition of every live issue, one row each. The
-- histories come from the changelog embedded in the search answer, or, for
-- issues whose embedded changelog was cut short, from raw_jira_changelogs
-- (the whole changelog, fetched separately).
CREATE OR REPLACE TEMP TABLE stg_jira__status_changes AS
WITH
issues AS (
    SELECT query, key, payload FROM raw_jira_issues WHERE gone_at IS NULL
),
separate AS (
    SELECT issue_key, payload AS h FROM raw_jira_changelogs
),
embedded AS (
    SELECT query, key, unnest(from_json(json_extract(payload, '$.changelog.histories'), '["JSON"]')) AS h
    FROM issues
    WHERE key NOT IN (SELECT issue_key FROM separate)
),
histories AS (
    SELECT query, key, h FROM embedded
    UNION ALL
    SELECT i.query, i.key, s.h FROM issues i JOIN separate s ON s.issue_key = i.key
),
items AS (
    SELECT
        query, key,
        json_extract_string(h, 'id')                  AS history_id,
        jira_person(json_extract(h, 'author'))  AS author,
        jira_ts(json_extract_string(h, 'created'))    AS changed_at,
        unnest(from_json(json_extract(h, 'items'), '["JSON"]')) AS item
    FROM histories
)
SELECT query, key, history_id, author, changed_at,
       json_extract_string(item, 'fromString') AS from_status,
       json_extract_string(item, 'toString')   AS to_status
FROM items
WHERE json_extract_string(item, 'field') = 'status';
