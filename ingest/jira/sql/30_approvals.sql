-- approvals WHERE source = 'jira':
--   1. each transition of a change request into an approved status: the
--      person who made it approved, at that time; into a rejected status:
--      rejected.
--   2. each user named in an approver field of a change request that
--      entered an approved status: approved, at the first such entry.
-- role is approval_role (default cab). Identical rows are kept once; when
-- both ways name the same decision, extra is the transition's (chosen in a
-- fixed order, so that mapping again writes the same row).
DELETE FROM approvals WHERE source = 'jira';

INSERT INTO approvals (change_request, approver, role, decision, decided_at, extra, source)
WITH
transitions AS (
    SELECT * FROM stg_jira__status_changes WHERE query = 'change_requests'
),
decisions AS (
    SELECT key, author, changed_at, to_status,
        CASE
            WHEN lower(to_status) IN (SELECT value FROM jira_lists WHERE name = 'approved_statuses') THEN 'approved'
            WHEN lower(to_status) IN (SELECT value FROM jira_lists WHERE name = 'rejected_statuses') THEN 'rejected'
        END AS decision
    FROM transitions
),
first_approval AS (
    SELECT key, min(changed_at) AS approved_at FROM decisions WHERE decision = 'approved' GROUP BY key
),
field_values AS (
    SELECT i.key, l.value AS field, json_extract(i.payload, '$.fields.' || l.value) AS v
    FROM stg_jira__issues i
    CROSS JOIN (SELECT value FROM jira_lists WHERE name = 'approver_fields_raw') l
    WHERE i.query = 'change_requests'
),
field_users AS (
    SELECT key, field, unnest(CASE json_type(v)
        WHEN 'ARRAY' THEN from_json(v, '["JSON"]')
        WHEN 'OBJECT' THEN [v]
        ELSE []::JSON[] END) AS u
    FROM field_values
),
rows AS (
    SELECT key AS change_request, coalesce(author, 'unknown') AS approver, decision, changed_at AS decided_at,
           json_object('via', 'transition', 'status', to_status) AS extra
    FROM decisions WHERE decision IS NOT NULL
    UNION ALL
    SELECT u.key, jira_person(u.u), 'approved', a.approved_at,
           json_object('via', 'field', 'field', u.field)
    FROM field_users u JOIN first_approval a USING (key)
    WHERE jira_person(u.u) IS NOT NULL
)
SELECT r.change_request, r.approver, coalesce(any_value(c.approval_role), 'cab') AS role, r.decision, r.decided_at,
       arg_min(r.extra, CASE r.extra->>'via' WHEN 'transition' THEN '0' ELSE '1' END || CAST(r.extra AS VARCHAR)) AS extra,
       'jira' AS source
FROM rows r
CROSS JOIN jira_conf c
GROUP BY r.change_request, r.approver, r.decision, r.decided_at;
