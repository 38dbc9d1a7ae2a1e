-- pdm.window_extras: the statistics of each extra channel of each final window
-- (WindowFeatures.extras: pressure, flow, ... beyond the six features), one row per machine, window
-- and channel, the columns as the six features' in pdm.window_features. Written by sink-postgres
-- in the transaction of its window_features row; read by the API, Grafana and analysts on the
-- follower. pdm.window_channels shows the six features and the extras in one shape.
--
-- A narrow table rather than a jsonb column on window_features, measured on the local stack
-- (2026-12-03, two cores with a CI run going; 100,000 windows of 100 machines, 10 channels each,
-- in transactions of 500 windows of multi-row upserts as the sink writes them):
--                                      narrow (this)                   jsonb column
--   insert / replay of the windows     23.7 s / 27.2 s                 13.2 s / 14.0 s
--   size, tables and indexes           37 MB + 189 MB (99 MB heap,     203 MB (1.9 kB a row,
--                                      90 MB of the two indexes)        jsonb numerics inline)
--   "mean pressure of machine X last   0.24 ms (primary key range,     0.29 ms (primary key range,
--    week", server time                 channel filtered)                a jsonb lookup a row)
--   every machine's mean pressure      8.7 ms (window_extras_channel)  22 ms (window_start index,
--    last week                                                          every window's jsonb read)
--   the channels of a machine          0.37 ms (index-only scan)       0.6 ms (jsonb_object_keys)
-- The narrow table costs twice the write time (still 4,000 windows/s, far above a fleet's hourly
-- windows) for plain typed columns an analyst filters, aggregates and indexes like any other
-- (`WHERE channel = 'pressure' AND max > 6`), where jsonb needs a cast per value and an
-- expression index per channel for ranges (GIN serves containment, not `>`).
--
-- Rows are only ever upserted, as the other tables' (pdm_writer has no DELETE): a final window's
-- channels do not change.

CREATE TABLE IF NOT EXISTS pdm.window_extras (
  machine_id    text             NOT NULL,
  window_start  timestamptz      NOT NULL,
  channel       text             NOT NULL,  -- as in SensorReading.extras: a letter, then letters, digits or _
  count         bigint           NOT NULL,  -- non-null values; the stats are NULL when it is 0
  mean          double precision,
  min           double precision,
  max           double precision,
  stddev        double precision,          -- population standard deviation
  PRIMARY KEY (machine_id, window_start, channel),
  FOREIGN KEY (machine_id, window_start) REFERENCES pdm.window_features (machine_id, window_start)
);

-- "a machine's channels over a period" and "a window's extras" are the primary key; "a channel
-- of every machine over a period" is this one.
CREATE INDEX IF NOT EXISTS window_extras_channel ON pdm.window_extras (channel, window_start);

-- Every channel of every window in one shape: the six features (unpivoted from window_features,
-- named as in the Avro schemas) and the extras. A filter on machine_id, window_start and channel
-- reaches both tables' indexes through the view.
CREATE OR REPLACE VIEW pdm.window_channels AS
  SELECT f.machine_id, f.window_start, f.window_end, c.channel, c.count, c.mean, c.min, c.max, c.stddev
  FROM pdm.window_features f
  CROSS JOIN LATERAL (VALUES
    ('current', f.current_count, f.current_mean, f.current_min, f.current_max, f.current_stddev),
    ('accX', f.accx_count, f.accx_mean, f.accx_min, f.accx_max, f.accx_stddev),
    ('accY', f.accy_count, f.accy_mean, f.accy_min, f.accy_max, f.accy_stddev),
    ('accZ', f.accz_count, f.accz_mean, f.accz_min, f.accz_max, f.accz_stddev),
    ('tempA', f.tempa_count, f.tempa_mean, f.tempa_min, f.tempa_max, f.tempa_stddev),
    ('tempB', f.tempb_count, f.tempb_mean, f.tempb_min, f.tempb_max, f.tempb_stddev)
  ) AS c(channel, count, mean, min, max, stddev)
  UNION ALL
  SELECT x.machine_id, x.window_start, f.window_end, x.channel, x.count, x.mean, x.min, x.max, x.stddev
  FROM pdm.window_extras x
  JOIN pdm.window_features f USING (machine_id, window_start);

-- As in 004: 002's default privileges cover the table for the same owner; explicit for any other.
-- The view reads as its owner; the analyst needs SELECT on it only.
GRANT SELECT, INSERT, UPDATE ON pdm.window_extras TO pdm_writer;
GRANT SELECT ON pdm.window_extras, pdm.window_channels TO pdm_analyst;
