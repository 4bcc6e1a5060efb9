-- 0051: raw table of CDEvents (ingest/cdevents), received by `shiplog serve`
-- on /api/v1/cdevents or read by `shiplog ingest cdevents FILE`. The SQL in
-- ingest/cdevents/sql maps them to deployments, incidents and changes.

-- One row per CloudEvent, keyed by its source and id (ce-source, ce-id):
-- an event delivered again is not stored again. payload is the CDEvent as
-- received (context, subject, customData); timestamp is its
-- context.timestamp; origin says how it came (a delivery, or FILE:LINE).
CREATE TABLE raw_cdevents (
    source       VARCHAR NOT NULL,
    id           VARCHAR NOT NULL,
    type         VARCHAR NOT NULL,
    subject_id   VARCHAR NOT NULL,
    timestamp    TIMESTAMPTZ NOT NULL,
    payload      JSON NOT NULL,
    origin       VARCHAR NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, id)
);
