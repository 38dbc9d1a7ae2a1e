-- pdm.machine_latest: one row per machine, where its latest rows are: the start (and end) of its
-- last window, its latest assessment's window_end with that assessment's state and warm-up, its
-- latest scored assessment (anomaly_score not NULL) and its latest forecast's made_at.
--
-- Why: since 009 the four tables hold one partition per day. A machine's latest window, assessment
-- or forecast is not bounded by time, so Postgres plans such a query over every partition (13 to
-- 100 ms a query with 90 days, docs/scale.md), and the read API's machine list and machine page
-- ask several. With this table the API reads a machine's latest rows by their key, time included,
-- which prunes every other day at planning; the fleet list, its count and `?state=` read this
-- table alone (one index scan) instead of a loose scan of window_features.
--
-- Kept by statement triggers on the four tables' parents, in the transaction of the rows: any
-- writer (the sink, a seed, a hand-written INSERT through the parent) keeps it. Each statement's
-- rows are folded into one upsert per table that only ever moves a pointer forward, so a replayed
-- or duplicated batch (the sink's upserts change nothing then, and fire no UPDATE rows) leaves it
-- as it was. A row inserted into a day's partition by name bypasses the parent's triggers.
-- drop_day_partitions (the retention) recomputes the pointers that were in the dropped day.

CREATE TABLE pdm.machine_latest (
  machine_id                  text PRIMARY KEY,
  last_window_start           timestamptz,  -- NULL while the machine has assessments or forecasts but no window
  last_window_end             timestamptz,
  last_assessment_end         timestamptz,  -- the latest assessment's window_end (its key)
  last_assessment_state       text,         -- and its state and warming_up, as in pdm.assessments
  last_assessment_warming_up  text,
  last_anomaly_end            timestamptz,  -- the latest assessment with an anomaly score
  last_forecast_at            timestamptz   -- the latest forecast's made_at
) WITH (fillfactor = 50);
-- Every machine's row is rewritten a few times an hour. No index but the key, and room left in each
-- page, so those updates are HOT (no index entry, the old version pruned in place): measured, an
-- index on last_window_start doubled what the triggers add to the sink's statements (4.5 ms more per
-- 500 windows and 500 assessments of 500 machines without it, 8 ms with it; 15.7 ms without triggers).

CREATE FUNCTION pdm.machine_latest_windows() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  INSERT INTO pdm.machine_latest AS m (machine_id, last_window_start, last_window_end)
  SELECT DISTINCT ON (machine_id) machine_id, window_start, window_end FROM new_rows ORDER BY machine_id, window_start DESC
  ON CONFLICT (machine_id) DO UPDATE SET last_window_start = EXCLUDED.last_window_start, last_window_end = EXCLUDED.last_window_end
  WHERE m.last_window_start IS NULL OR EXCLUDED.last_window_start > m.last_window_start
     OR (EXCLUDED.last_window_start = m.last_window_start AND EXCLUDED.last_window_end IS DISTINCT FROM m.last_window_end);
  RETURN NULL;
END
$fn$;

CREATE FUNCTION pdm.machine_latest_assessments() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  INSERT INTO pdm.machine_latest AS m (machine_id, last_assessment_end, last_assessment_state, last_assessment_warming_up, last_anomaly_end)
  SELECT l.machine_id, l.window_end, l.state, l.warming_up, s.anomaly_end
  FROM (SELECT DISTINCT ON (machine_id) machine_id, window_end, state, warming_up FROM new_rows ORDER BY machine_id, window_end DESC) AS l
  JOIN (SELECT machine_id, max(window_end) FILTER (WHERE anomaly_score IS NOT NULL) AS anomaly_end FROM new_rows GROUP BY machine_id) AS s USING (machine_id)
  ON CONFLICT (machine_id) DO UPDATE SET
    last_assessment_end = CASE WHEN m.last_assessment_end IS NULL OR EXCLUDED.last_assessment_end >= m.last_assessment_end
      THEN EXCLUDED.last_assessment_end ELSE m.last_assessment_end END,
    last_assessment_state = CASE WHEN m.last_assessment_end IS NULL OR EXCLUDED.last_assessment_end >= m.last_assessment_end
      THEN EXCLUDED.last_assessment_state ELSE m.last_assessment_state END,
    last_assessment_warming_up = CASE WHEN m.last_assessment_end IS NULL OR EXCLUDED.last_assessment_end >= m.last_assessment_end
      THEN EXCLUDED.last_assessment_warming_up ELSE m.last_assessment_warming_up END,
    last_anomaly_end = greatest(m.last_anomaly_end, EXCLUDED.last_anomaly_end)
  WHERE m.last_assessment_end IS NULL OR EXCLUDED.last_assessment_end > m.last_assessment_end
     OR (EXCLUDED.last_assessment_end = m.last_assessment_end
         AND (EXCLUDED.last_assessment_state, EXCLUDED.last_assessment_warming_up) IS DISTINCT FROM (m.last_assessment_state, m.last_assessment_warming_up))
     OR EXCLUDED.last_anomaly_end > coalesce(m.last_anomaly_end, '-infinity');
  RETURN NULL;
END
$fn$;

CREATE FUNCTION pdm.machine_latest_forecasts() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  INSERT INTO pdm.machine_latest AS m (machine_id, last_forecast_at)
  SELECT machine_id, max(made_at) FROM new_rows GROUP BY machine_id
  ON CONFLICT (machine_id) DO UPDATE SET last_forecast_at = EXCLUDED.last_forecast_at
  WHERE m.last_forecast_at IS NULL OR EXCLUDED.last_forecast_at > m.last_forecast_at;
  RETURN NULL;
END
$fn$;

-- A trigger with transition tables takes one event: one for the inserted rows, one for the updated.
CREATE TRIGGER machine_latest_inserted AFTER INSERT ON pdm.window_features
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pdm.machine_latest_windows();
CREATE TRIGGER machine_latest_updated AFTER UPDATE ON pdm.window_features
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pdm.machine_latest_windows();
CREATE TRIGGER machine_latest_inserted AFTER INSERT ON pdm.assessments
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pdm.machine_latest_assessments();
CREATE TRIGGER machine_latest_updated AFTER UPDATE ON pdm.assessments
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pdm.machine_latest_assessments();
CREATE TRIGGER machine_latest_inserted AFTER INSERT ON pdm.forecasts
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pdm.machine_latest_forecasts();

-- The pointers of `ids` (every machine when NULL) computed from the rows, replacing what was there;
-- a machine without rows loses its row. The migration fills the table with it; drop_day_partitions
-- recomputes the machines it touched. Every lookup is a machine's range of a primary key.
CREATE FUNCTION pdm.recompute_machine_latest(ids text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  IF ids IS NULL THEN
    -- Every machine of the three tables: a loose scan of each primary key (one lookup per machine, not a read of every row).
    ids := ARRAY(
      WITH RECURSIVE w(m) AS (SELECT min(machine_id) FROM pdm.window_features
                              UNION ALL SELECT (SELECT min(machine_id) FROM pdm.window_features WHERE machine_id > w.m) FROM w WHERE w.m IS NOT NULL),
      a(m) AS (SELECT min(machine_id) FROM pdm.assessments
               UNION ALL SELECT (SELECT min(machine_id) FROM pdm.assessments WHERE machine_id > a.m) FROM a WHERE a.m IS NOT NULL),
      f(m) AS (SELECT min(machine_id) FROM pdm.forecasts
               UNION ALL SELECT (SELECT min(machine_id) FROM pdm.forecasts WHERE machine_id > f.m) FROM f WHERE f.m IS NOT NULL)
      SELECT m FROM w WHERE m IS NOT NULL UNION SELECT m FROM a WHERE m IS NOT NULL UNION SELECT m FROM f WHERE m IS NOT NULL);
  END IF;
  IF cardinality(ids) = 0 THEN
    RETURN;
  END IF;
  DELETE FROM pdm.machine_latest WHERE machine_id = ANY(ids);
  INSERT INTO pdm.machine_latest
  SELECT * FROM (
    SELECT k.machine_id, w.window_start, w.window_end, a.window_end AS assessment_end, a.state, a.warming_up,
      (SELECT max(x.window_end) FROM pdm.assessments x WHERE x.machine_id = k.machine_id AND x.anomaly_score IS NOT NULL),
      (SELECT max(f.made_at) FROM pdm.forecasts f WHERE f.machine_id = k.machine_id) AS forecast_at
    FROM (SELECT DISTINCT unnest(ids) AS machine_id) AS k
    LEFT JOIN LATERAL (SELECT window_start, window_end FROM pdm.window_features x
                       WHERE x.machine_id = k.machine_id ORDER BY window_start DESC LIMIT 1) AS w ON true
    LEFT JOIN LATERAL (SELECT window_end, state, warming_up FROM pdm.assessments x
                       WHERE x.machine_id = k.machine_id ORDER BY window_end DESC LIMIT 1) AS a ON true
  ) AS r
  WHERE r.window_start IS NOT NULL OR r.assessment_end IS NOT NULL OR r.forecast_at IS NOT NULL;
END
$fn$;

-- 009's retention, which now also recomputes the machines that had a pointer in the dropped day.
CREATE OR REPLACE FUNCTION pdm.drop_day_partitions(day date) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  s name := (SELECT relnamespace::regnamespace::name FROM pg_class WHERE oid = 'pdm.window_features'::regclass);
  suffix text := 'p' || CASE WHEN day < date '0001-01-01' THEN 'bc' ELSE '' END || to_char(day, 'YYYYMMDD');
  dayStart timestamptz := day::timestamp AT TIME ZONE 'UTC';
  dayEnd timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
  t text;
BEGIN
  IF day IS NULL OR day >= (now() AT TIME ZONE 'UTC')::date - 1 THEN
    RAISE EXCEPTION 'refusing to drop the partitions of %: only days over for a whole day (UTC) are dropped', coalesce(day::text, 'no day');
  END IF;
  EXECUTE format('LOCK TABLE %I.window_features IN SHARE UPDATE EXCLUSIVE MODE', s);  -- as in create_day_partitions
  FOREACH t IN ARRAY ARRAY['window_extras', 'forecasts', 'window_features', 'assessments'] LOOP
    CONTINUE WHEN to_regclass(format('%I.%I', s, t || '_' || suffix)) IS NULL;
    EXECUTE format('DROP TABLE %I.%I', s, t || '_' || suffix);
    RETURN NEXT t || '_' || suffix;
  END LOOP;
  PERFORM pdm.recompute_machine_latest(ARRAY(
    SELECT machine_id FROM pdm.machine_latest
    WHERE (last_window_start >= dayStart AND last_window_start < dayEnd) OR (last_assessment_end >= dayStart AND last_assessment_end < dayEnd)
       OR (last_anomaly_end >= dayStart AND last_anomaly_end < dayEnd) OR (last_forecast_at >= dayStart AND last_forecast_at < dayEnd)));
END
$fn$;

REVOKE ALL ON FUNCTION pdm.recompute_machine_latest(text[]) FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON pdm.machine_latest TO pdm_writer;
GRANT SELECT ON pdm.machine_latest TO pdm_analyst;

SELECT pdm.recompute_machine_latest(NULL);
