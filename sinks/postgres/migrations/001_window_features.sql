-- pdm.window_features: one row per final window (CONTRACT.md), the six features' statistics.
-- Written by sink-postgres; read by analysts on the follower and by `pdmctl train --from-postgres`.
-- Column names are <feature>_<stat> with the feature as in the Avro schema, lower-cased
-- (current, accx, accy, accz, tempa, tempb); a stat is NULL when the window had no value for the feature.
CREATE SCHEMA IF NOT EXISTS pdm;

CREATE TABLE IF NOT EXISTS pdm.window_features (
  machine_id     text        NOT NULL,
  window_start   timestamptz NOT NULL,
  window_end     timestamptz NOT NULL,
  count          bigint      NOT NULL,
  current_count  bigint NOT NULL, current_mean double precision, current_min double precision, current_max double precision, current_stddev double precision,
  accx_count     bigint NOT NULL, accx_mean    double precision, accx_min    double precision, accx_max    double precision, accx_stddev    double precision,
  accy_count     bigint NOT NULL, accy_mean    double precision, accy_min    double precision, accy_max    double precision, accy_stddev    double precision,
  accz_count     bigint NOT NULL, accz_mean    double precision, accz_min    double precision, accz_max    double precision, accz_stddev    double precision,
  tempa_count    bigint NOT NULL, tempa_mean   double precision, tempa_min   double precision, tempa_max   double precision, tempa_stddev   double precision,
  tempb_count    bigint NOT NULL, tempb_mean   double precision, tempb_min   double precision, tempb_max   double precision, tempb_stddev   double precision,
  PRIMARY KEY (machine_id, window_start),
  CHECK (window_end > window_start)
);

CREATE INDEX IF NOT EXISTS window_features_window_start ON pdm.window_features (window_start);
