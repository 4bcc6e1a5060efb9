-- 0111: the coverage of the canonical tables as the last transform read
-- them (internal/coverage's query: rows and event range per kind, source
-- and UTC day as days since the epoch), written in the transform's
-- transaction. `shiplog metrics` states the coverage of the data its
-- numbers come from by reading these few thousand rows instead of
-- grouping every canonical row on each call.
CREATE TABLE coverage_days (
    kind     VARCHAR NOT NULL,
    source   VARCHAR NOT NULL,
    day      BIGINT,
    n        BIGINT NOT NULL,
    first    TIMESTAMPTZ,
    last     TIMESTAMPTZ
);
