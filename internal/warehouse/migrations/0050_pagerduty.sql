-- 0050: raw tables of the PagerDuty source (ingest/pagerduty). Rows are what
-- PagerDuty sent; the SQL in ingest/pagerduty/sql maps them to incidents.
-- Like the other raw tables they carry no PRIMARY KEY: the source replaces
-- rows with DELETE + INSERT per page.

-- GET /incidents items (include[]=priorities), or the incident object of a
-- v3 webhook event when the API has not been read for that incident yet
-- (origin 'api' or 'webhook'; a webhook copy's updated_at is its event's
-- occurred_at). Natural key: id.
CREATE TABLE raw_pagerduty_incidents (
    id          VARCHAR NOT NULL,
    created_at  TIMESTAMPTZ,
    updated_at  TIMESTAMPTZ,
    origin      VARCHAR NOT NULL,
    payload     JSON NOT NULL,
    fetched_at  TIMESTAMPTZ NOT NULL
);

-- GET /incidents/{id}/log_entries?is_overview=true items, replaced as a set
-- per incident, and the incident.triggered / acknowledged / resolved events
-- of v3 webhooks (type is then the event type, created_at its occurred_at,
-- payload the whole event). Natural key: incident_id, id.
CREATE TABLE raw_pagerduty_log_entries (
    incident_id VARCHAR NOT NULL,
    id          VARCHAR NOT NULL,
    type        VARCHAR NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    origin      VARCHAR NOT NULL,
    payload     JSON NOT NULL,
    fetched_at  TIMESTAMPTZ NOT NULL
);
