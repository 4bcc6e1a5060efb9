-- 0010: the SHA-256 of every applied push or webhook body, so that a body
-- already applied is a duplicate whatever delivery id it comes with: a
-- captured delivery resent under a new id changes nothing.
CREATE TABLE delivery_bodies (
    endpoint     VARCHAR NOT NULL,        -- events, github, …
    body_sha256  VARCHAR NOT NULL,        -- hex SHA-256 of the raw body
    delivery_id  VARCHAR NOT NULL,        -- the delivery that applied it
    received_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (endpoint, body_sha256)
);
