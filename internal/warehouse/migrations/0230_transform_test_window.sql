-- 0230: the window the metric macros' declared tests read in the last
-- transform (the run values metric_test_lo and metric_test_hi). When the
-- next, incremental run reads the same window, the teams no rebuilt row
-- counts for show the rows the last build tested, and their tests read
-- only the rebuilt services' teams (transform/incremental.go, testRelation).
ALTER TABLE transform_state ADD COLUMN metric_test_lo TIMESTAMPTZ;
ALTER TABLE transform_state ADD COLUMN metric_test_hi TIMESTAMPTZ;
