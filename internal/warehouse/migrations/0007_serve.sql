-- 0007: delivery ids of pushed events and webhooks, so that a redelivered
-- request is answered without being applied twice.
CREATE TABLE webhook_deliveries (
    endpoint     VARCHAR NOT NULL,        -- events, github
    delivery_id  VARCHAR NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL,
    event        VARCHAR,                 -- GitHub event name, if any
    records      BIGINT NOT NULL,         -- canonical or raw records it carried
    PRIMARY KEY (endpoint, delivery_id)
);
