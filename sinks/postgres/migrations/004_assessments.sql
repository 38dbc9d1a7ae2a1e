-- pdm.assessments and pdm.forecasts: what the inference processor made of each final window of each
-- machine (pdm.assessments.v1, MachineAssessment), written by sink-postgres; read by the read API
-- (`pdmctl run api`) and analysts on the follower. One assessment row per machine and window; its
-- forecast is one row per feature and forecast window, keyed by when it was made (made_at, the
-- assessment's window_end), so every forecast ever made stays and can be scored against what came.
-- Like window_features and alerts, no bookkeeping columns (updated_at, source offsets): a replay
-- must leave every row as it was, and a column that changes on every write would rewrite them all.

CREATE TABLE IF NOT EXISTS pdm.assessments (
  machine_id          text             NOT NULL,
  window_start        timestamptz      NOT NULL,
  window_end          timestamptz      NOT NULL,
  warming_up          text,              -- why not every model could assess the machine yet (too little history), or NULL
  anomaly_score       double precision,  -- NULL when the detector did not score this window
  anomaly_threshold   double precision,  -- a score above it is anomalous
  detector_model      text,
  detector_version    text,
  forecaster_model    text,              -- NULL when there is no forecast; its points are in pdm.forecasts
  forecaster_version  text,
  PRIMARY KEY (machine_id, window_end),
  CHECK (window_end > window_start),
  -- The Avro record carries a score with its threshold and model, or none of them; same for the forecaster.
  CHECK ((anomaly_score IS NULL) = (anomaly_threshold IS NULL) AND (anomaly_score IS NULL) = (detector_model IS NULL) AND (anomaly_score IS NULL) = (detector_version IS NULL)),
  CHECK ((forecaster_model IS NULL) = (forecaster_version IS NULL))
);

CREATE TABLE IF NOT EXISTS pdm.forecasts (
  machine_id     text             NOT NULL,
  made_at        timestamptz      NOT NULL,  -- the assessment's window_end: the forecast starts here
  target_start   timestamptz      NOT NULL,  -- start of the forecast window (ForecastPoint.windowStart)
  feature        text             NOT NULL,  -- as in the Avro schemas: current, accX, accY, accZ, tempA, tempB
  mean           double precision NOT NULL,  -- point forecast of the window mean
  lower          double precision NOT NULL,  -- its prediction interval
  upper          double precision NOT NULL,
  limit_lower    double precision,           -- the limits in force when it was made, NULL where there is none
  limit_upper    double precision,
  model_version  text             NOT NULL,
  PRIMARY KEY (machine_id, made_at, target_start, feature),
  CHECK (target_start >= made_at),
  -- A forecast belongs to its assessment; the sink writes both in one transaction, the assessment first.
  FOREIGN KEY (machine_id, made_at) REFERENCES pdm.assessments (machine_id, window_end)
);

-- Indexes, not partitions (as 002 explains). The questions asked of these tables:
--   "a machine's latest assessment / anomaly score" -> the primary key (machine_id, window_end), backwards
--   "a machine's assessments, last N days"          -> the primary key (machine_id =, window_end range)
--   "all machines' assessments, last N days"        -> assessments_window_end
--   "a machine's latest forecast"                   -> the primary key (machine_id, made_at, ...): max(made_at)
--                                                      of a machine, then its points, both index range scans
--   "what was forecast for a machine's next hours /
--    for the windows of a past period"              -> forecasts_machine_target (machine_id =, target_start range)
CREATE INDEX IF NOT EXISTS assessments_window_end ON pdm.assessments (window_end);
CREATE INDEX IF NOT EXISTS forecasts_machine_target ON pdm.forecasts (machine_id, target_start);

-- 002's default privileges already give the two roles these tables when the same owner runs this
-- file; the grants are explicit too, so another owner running it gives the same result.
GRANT SELECT, INSERT, UPDATE ON pdm.assessments, pdm.forecasts TO pdm_writer;
GRANT SELECT ON pdm.assessments, pdm.forecasts TO pdm_analyst;
