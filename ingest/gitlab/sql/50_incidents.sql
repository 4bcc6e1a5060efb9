-- GitLab incident issues → canonical incidents, id "group/project#iid".
-- An issue is an incident when its type is incident (incidents.issue_type,
-- on by default) or it carries incidents.label.
--   severity: GitLab's severity field through incidents.severities (default
--             critical sev1, high sev2, medium sev3, low sev4; "unknown"
--             falls through), else a label of incidents.severity_labels,
--             else a label such as "severity::1", "S2", "sev3" or "P4" read
--             as its digit, else incidents.default_severity (sev3);
--   service:  a label "<service_label_prefix><service>" (default
--             "service::"), else the project's service;
--   resolved_at: closed_at of a closed issue.
INSERT INTO incidents (id, service, severity, title, opened_at, acknowledged_at, resolved_at,
    caused_by_deployment, root_cause_sha, is_false_positive, postmortem_url, customer_impact, extra, source)
WITH settings AS (
    SELECT * FROM _gitlab_settings
),
issues AS (
    SELECT i.*
    FROM stg_gitlab__issues i, settings st
    WHERE i.opened_at IS NOT NULL
      AND ((st.incident_issue_type AND i.issue_type = 'incident')
           OR (st.incident_label <> '' AND list_contains(list_transform(i.labels, lambda l: lower(l)), lower(st.incident_label))))
),
labels AS (
    SELECT project, iid, unnest(labels) AS label FROM issues
),
label_severity AS (
    SELECT l.project, l.iid,
           min(m.value) AS mapped,
           min(CASE WHEN regexp_full_match(trim(l.label), '(?i)(sev(erity)?|s|p)[\s:_-]*[1-4]')
                    THEN 'sev' || regexp_extract(l.label, '([1-4])\s*$', 1) END) AS pattern
    FROM labels l
    LEFT JOIN _gitlab_maps m ON m.name = 'severity_labels' AND m.key = lower(trim(l.label))
    GROUP BY l.project, l.iid
),
label_service AS (
    SELECT l.project, l.iid, min(substr(trim(l.label), length(st.service_label_prefix) + 1)) AS service
    FROM labels l, settings st
    WHERE st.service_label_prefix <> ''
      AND starts_with(lower(trim(l.label)), lower(st.service_label_prefix))
      AND length(trim(l.label)) > length(st.service_label_prefix)
    GROUP BY l.project, l.iid
)
SELECT i.project || '#' || i.iid,
       coalesce(ls.service, gitlab_service(i.project)),
       coalesce(fm.value, sv.mapped, sv.pattern, st.default_severity),
       i.title,
       i.opened_at,
       NULL,
       CASE WHEN i.state = 'closed' THEN i.closed_at END,
       NULL,
       NULL,
       false,
       NULL,
       NULL,
       json_object('iid', i.iid, 'url', i.url, 'state', i.state, 'gitlab_severity', i.severity,
                   'labels', i.labels, 'author', i.author, 'origin', i.origin),
       'gitlab'
FROM issues i
CROSS JOIN settings st
LEFT JOIN _gitlab_maps fm ON fm.name = 'severities' AND fm.key = i.severity
LEFT JOIN label_severity sv ON sv.project = i.project AND sv.iid = i.iid
LEFT JOIN label_service ls ON ls.project = i.project AND ls.iid = i.iid;
