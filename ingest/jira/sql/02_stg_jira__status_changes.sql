-- Staging: every status transition of every live issue, one row each. The
-- histories come from the changelog embedded in the search answer, or, for
-- issues whose embedded changelog was cut short, from raw_jira_changelogs
-- (the whole changelog, fetched separately). Each history is parsed once,
-- into a typed struct.
CREATE OR REPLACE TEMP TABLE stg_jira__status_changes AS
WITH
separate AS (
    SELECT issue_key, payload AS h FROM raw_jira_changelogs
),
embedded AS (
    SELECT query, key, unnest(from_json(json_extract(payload, '$.changelog.histories'), '["JSON"]')) AS h
    FROM raw_jira_issues
    WHERE gone_at IS NULL AND key NOT IN (SELECT issue_key FROM separate)
),
histories AS (
    SELECT query, key, h FROM embedded
    UNION ALL
    SELECT i.query, i.key, s.h
    FROM raw_jira_issues i JOIN separate s ON s.issue_key = i.key
    WHERE i.gone_at IS NULL
),
typed AS (
    SELECT query, key, from_json(h, '{"id": "VARCHAR", "created": "VARCHAR", "author": "JSON",
        "items": [{"field": "VARCHAR", "fromString": "VARCHAR", "toString": "VARCHAR"}]}') AS t
    FROM histories
),
items AS (
    SELECT query, key, t.id AS history_id, jira_person(t.author) AS author, jira_ts(t.created) AS changed_at,
           unnest(t.items) AS item
    FROM typed
)
SELECT query, key, history_id, author, changed_at,
       item.fromString AS from_status,
       item.toString   AS to_status
FROM items
WHERE item.field = 'status';
