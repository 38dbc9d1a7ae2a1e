-- pdm.alerts: every alert transition (CONTRACT.md), keyed by the transition's alert_id, and the
-- two roles of the contract: pdm_writer (the sink) and pdm_analyst (read-only, on the follower).
-- Passwords are not here: `pdmctl db migrate` and the sink set them from PDM_WRITER_PASSWORD and
-- PDM_ANALYST_PASSWORD after the migrations, so this file (and its checksum) holds no secret.

CREATE TABLE IF NOT EXISTS pdm.alerts (
  alert_id            text             PRIMARY KEY,
  dedup_key           text             NOT NULL,
  machine_id          text             NOT NULL,
  status              text             NOT NULL CHECK (status IN ('FIRING', 'RESOLVED')),
  severity            text             NOT NULL CHECK (severity IN ('INFO', 'WARNING', 'CRITICAL')),
  kind                text             NOT NULL,
  feature             text,
  window_end          timestamptz      NOT NULL,
  predicted_breach_at timestamptz,
  score               double precision NOT NULL,
  threshold           double precision NOT NULL,
  model_name          text             NOT NULL,
  model_version       text             NOT NULL,
  message             text             NOT NULL,
  created_at          timestamptz      NOT NULL
);

-- Indexes, not partitions. The volumes are small for Postgres (one row per machine and hour in
-- window_features, 8,760 a machine a year; alerts far fewer), and partitioning would force the
-- partition key into every unique key: alert_id alone could no longer be the upsert key that
-- makes a replay change nothing. The analysts' two usual questions are range scans:
--   "every alert of last week"          -> alerts_created_at (created_at range)
--   "one machine's alerts, last N days" -> alerts_machine_created_at (machine_id =, created_at range)
--   "one machine's windows, last N days" is the primary key (machine_id, window_start) of
--   pdm.window_features; "all machines, last N days" is window_features_window_start (001).
-- dedup_key serves following one alert through its transitions (the email sink's question too).
CREATE INDEX IF NOT EXISTS alerts_created_at ON pdm.alerts (created_at);
CREATE INDEX IF NOT EXISTS alerts_machine_created_at ON pdm.alerts (machine_id, created_at);
CREATE INDEX IF NOT EXISTS alerts_dedup_key ON pdm.alerts (dedup_key, created_at);

-- Roles are cluster-wide: create them once, whichever schema this runs for.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pdm_writer') THEN
    CREATE ROLE pdm_writer NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pdm_analyst') THEN
    CREATE ROLE pdm_analyst NOLOGIN;
  END IF;
END
$$;

-- The analyst writes nothing anywhere: no temporary tables either (PUBLIC has TEMPORARY on a new
-- database; since Postgres 15 nobody but the owner creates in schema public).
DO $$
BEGIN
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO pdm_writer, pdm_analyst', current_database());
END
$$;

GRANT USAGE ON SCHEMA pdm TO pdm_writer, pdm_analyst;
-- The sink inserts and updates (an upsert reads the row it conflicts with: SELECT too); it never deletes.
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA pdm TO pdm_writer;
GRANT SELECT ON ALL TABLES IN SCHEMA pdm TO pdm_analyst;
-- Tables later migrations create (003_notifications.sql, ...) get the same grants.
ALTER DEFAULT PRIVILEGES IN SCHEMA pdm GRANT SELECT, INSERT, UPDATE ON TABLES TO pdm_writer;
ALTER DEFAULT PRIVILEGES IN SCHEMA pdm GRANT SELECT ON TABLES TO pdm_analyst;
