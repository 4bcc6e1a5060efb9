-- 0240: what a CDEvents delivery needs to map only the rows it can change
-- (ingest/cdevents/keyed.go) instead of every stored event again.
--
-- cdevents_event_keys: per stored CDEvent, the fields its canonical rows
-- are grouped by, as the staging model read them (its event, subject,
-- context.chainId and the context ids its links point to). It is derived
-- data: the full mapping rebuilds it from the staging model, and a
-- delivery adds the rows of the events it stored.
CREATE TABLE cdevents_event_keys (
    source      VARCHAR NOT NULL,
    id          VARCHAR NOT NULL,
    event       VARCHAR,
    subject_id  VARCHAR,
    chain_id    VARCHAR,
    linked_ids  VARCHAR[]
);

-- mapping_state: per source, the fingerprint of the mapping SQL and the
-- settings it read when its canonical rows were last rebuilt in full. A
-- keyed mapping is only correct on top of rows built by the same rules,
-- so a different fingerprint (a new release, a changed setting) makes the
-- next delivery map in full.
CREATE TABLE mapping_state (
    source       VARCHAR PRIMARY KEY,
    fingerprint  VARCHAR NOT NULL,
    mapped_at    TIMESTAMPTZ NOT NULL
);
