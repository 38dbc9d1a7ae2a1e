-- The four tables that grow with the fleet (one row per machine and window: window_features and
-- window_extras by window_start, assessments by window_end, forecasts by made_at, the assessment's
-- window_end) become range-partitioned by that time, one partition per UTC day, so a retention
-- drops whole days (DROP TABLE, no DELETE, no vacuum) and a query on a time range reads only its days.
--
-- Why daily: a million machines' hourly windows are 24 million rows a day in window_features
-- (docs/scale.md: some GB a day with indexes); a day is a partition of a few GB whose indexes fit
-- in memory while it is written, and the retention's grain. Weekly partitions would be tens of GB
-- and keep up to six days too many; hourly ones would be 2,000 partitions for 90 days, and the
-- planner's cost grows with the partitions a query can't prune (a machine's latest row).
--
-- Names: <table>_pYYYYMMDD for the day [YYYY-MM-DD 00:00 UTC, next day 00:00 UTC); a year past
-- 9999 has more digits (_p120000101), a year BC a prefix (_pbc01010101). There is no DEFAULT
-- partition: the sink makes the partitions of a row's day before it writes the row
-- (pdm.create_day_partitions), for any day Postgres represents, so an odd time (1970, 2999, year
-- 12000) is stored in a partition of its own day. A DEFAULT partition would take the rows of days
-- not made yet silently, and then making that day fails (Postgres refuses a partition whose rows
-- sit in the DEFAULT one) until someone moves them; and each new partition would scan it. Without
-- it, a row written by hand for a day not made fails at once with "no partition of relation ...
-- found for row": `SELECT pdm.create_day_partitions('2026-01-05')` makes the day.
--
-- Keys are kept, partition key included as Postgres requires (it already was in every key). The
-- two foreign keys (window_extras -> window_features, forecasts -> assessments) hold between the
-- partitions of one day instead of the parents: both sides of each are partitioned by the same
-- time, so the rule is the same, and a day's partitions can be dropped (a foreign key to a
-- partitioned parent makes each referenced partition undroppable, and detaching one checks the
-- whole referencing table).
--
-- This converts a database with rows: it copies them into the partitioned tables in this
-- migration's transaction (the tables are locked meanwhile), and the follower replays it (physical
-- replication). A fresh database gets the same tables, empty.

DROP VIEW pdm.window_channels;  -- reads window_features and window_extras; recreated below as it was

ALTER TABLE pdm.window_features RENAME TO window_features_unpartitioned;
ALTER TABLE pdm.window_extras RENAME TO window_extras_unpartitioned;
ALTER TABLE pdm.assessments RENAME TO assessments_unpartitioned;
ALTER TABLE pdm.forecasts RENAME TO forecasts_unpartitioned;
ALTER INDEX pdm.window_features_pkey RENAME TO window_features_unpartitioned_pkey;
ALTER INDEX pdm.window_features_window_start RENAME TO window_features_unpartitioned_window_start;
ALTER INDEX pdm.window_extras_pkey RENAME TO window_extras_unpartitioned_pkey;
ALTER INDEX pdm.window_extras_channel RENAME TO window_extras_unpartitioned_channel;
ALTER INDEX pdm.assessments_pkey RENAME TO assessments_unpartitioned_pkey;
ALTER INDEX pdm.assessments_window_end RENAME TO assessments_unpartitioned_window_end;
ALTER INDEX pdm.forecasts_pkey RENAME TO forecasts_unpartitioned_pkey;
ALTER INDEX pdm.forecasts_machine_target RENAME TO forecasts_unpartitioned_machine_target;

-- Same columns in the same order, defaults, NOT NULLs and CHECKs; keys and indexes by their names of 001, 004 and 007.
CREATE TABLE pdm.window_features (LIKE pdm.window_features_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (window_start);
ALTER TABLE pdm.window_features ADD CONSTRAINT window_features_pkey PRIMARY KEY (machine_id, window_start);
CREATE INDEX window_features_window_start ON pdm.window_features (window_start);

CREATE TABLE pdm.window_extras (LIKE pdm.window_extras_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (window_start);
ALTER TABLE pdm.window_extras ADD CONSTRAINT window_extras_pkey PRIMARY KEY (machine_id, window_start, channel);
CREATE INDEX window_extras_channel ON pdm.window_extras (channel, window_start);

CREATE TABLE pdm.assessments (LIKE pdm.assessments_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (window_end);
ALTER TABLE pdm.assessments ADD CONSTRAINT assessments_pkey PRIMARY KEY (machine_id, window_end);
CREATE INDEX assessments_window_end ON pdm.assessments (window_end);

CREATE TABLE pdm.forecasts (LIKE pdm.forecasts_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (made_at);
ALTER TABLE pdm.forecasts ADD CONSTRAINT forecasts_pkey PRIMARY KEY (machine_id, made_at, target_start, feature);
CREATE INDEX forecasts_machine_target ON pdm.forecasts (machine_id, target_start);

-- The partitions of one day of the four tables, with their foreign keys and grants; returns the
-- names it created. SECURITY DEFINER: the sink, connected as pdm_writer (no DDL), makes the
-- partitions its rows need through it, and they belong to the owner like the tables. Concurrent
-- sinks: a lock makes one of them create, and the others find the partitions there (IF NOT EXISTS
-- alone still races on the catalog).
CREATE FUNCTION pdm.create_day_partitions(day date) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  -- The schema these tables are in (`pdm`, or a test run's own: the migration runner renames `pdm.`).
  s name := (SELECT relnamespace::regnamespace::name FROM pg_class WHERE oid = 'pdm.window_features'::regclass);
  suffix text := 'p' || CASE WHEN day < date '0001-01-01' THEN 'bc' ELSE '' END || to_char(day, 'YYYYMMDD');
  t text;
  fk record;
BEGIN
  IF day IS NULL THEN
    RAISE EXCEPTION 'create_day_partitions needs a day';
  END IF;
  IF (SELECT count(*) FROM unnest(ARRAY['window_features', 'window_extras', 'assessments', 'forecasts']) AS p(name)
      WHERE to_regclass(format('%I.%I', s, p.name || '_' || suffix)) IS NOT NULL) = 4 THEN
    RETURN;  -- the usual case, without the lock
  END IF;
  -- One maker at a time per schema. A lock on a table, not an advisory lock: taking it also reads
  -- the catalog changes committed meanwhile, so the checks below see the other maker's partitions.
  -- SHARE UPDATE EXCLUSIVE conflicts with itself, not with reads and writes; CREATE ... PARTITION OF
  -- then holds ACCESS EXCLUSIVE on each parent until commit (why the sink makes days ahead).
  EXECUTE format('LOCK TABLE %I.window_features IN SHARE UPDATE EXCLUSIVE MODE', s);
  FOREACH t IN ARRAY ARRAY['window_features', 'window_extras', 'assessments', 'forecasts'] LOOP
    CONTINUE WHEN to_regclass(format('%I.%I', s, t || '_' || suffix)) IS NOT NULL;
    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES FROM (%L) TO (%L)', s, t || '_' || suffix, s, t,
      day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
    -- Queries through the parent check the parent's grants; these are for reading a partition by name.
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON %I.%I TO pdm_writer', s, t || '_' || suffix);
    EXECUTE format('GRANT SELECT ON %I.%I TO pdm_analyst', s, t || '_' || suffix);
    RETURN NEXT t || '_' || suffix;
  END LOOP;
  FOR fk IN SELECT * FROM (VALUES
      ('window_extras', 'machine_id, window_start', 'window_features', 'machine_id, window_start'),
      ('forecasts', 'machine_id, made_at', 'assessments', 'machine_id, window_end')) AS f(child, cols, parent, refcols)
  LOOP
    CONTINUE WHEN EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = format('%I.%I', s, fk.child || '_' || suffix)::regclass AND contype = 'f');
    EXECUTE format('ALTER TABLE %I.%I ADD FOREIGN KEY (%s) REFERENCES %I.%I (%s)',
      s, fk.child || '_' || suffix, fk.cols, s, fk.parent || '_' || suffix, fk.refcols);
  END LOOP;
END
$fn$;

-- Drops the partitions of one day of the four tables (the referencing ones first); returns the
-- names it dropped. The retention of sink-postgres (PDM_POSTGRES_RETENTION) calls it; it refuses
-- any day that has not been over for a whole day by the database's clock, so pdm_writer, which may
-- call it, can drop only old days, never today's or yesterday's.
CREATE FUNCTION pdm.drop_day_partitions(day date) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  s name := (SELECT relnamespace::regnamespace::name FROM pg_class WHERE oid = 'pdm.window_features'::regclass);
  suffix text := 'p' || CASE WHEN day < date '0001-01-01' THEN 'bc' ELSE '' END || to_char(day, 'YYYYMMDD');
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
END
$fn$;

-- A function is executable by PUBLIC unless revoked: only the owner and the sink may call these.
REVOKE ALL ON FUNCTION pdm.create_day_partitions(date), pdm.drop_day_partitions(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pdm.create_day_partitions(date), pdm.drop_day_partitions(date) TO pdm_writer;

-- A day's partitions for every day that holds rows, then the rows.
SELECT pdm.create_day_partitions(d)
FROM (
  SELECT (window_start AT TIME ZONE 'UTC')::date AS d FROM pdm.window_features_unpartitioned
  UNION SELECT (window_start AT TIME ZONE 'UTC')::date FROM pdm.window_extras_unpartitioned
  UNION SELECT (window_end AT TIME ZONE 'UTC')::date FROM pdm.assessments_unpartitioned
  UNION SELECT (made_at AT TIME ZONE 'UTC')::date FROM pdm.forecasts_unpartitioned
) AS days;

INSERT INTO pdm.window_features SELECT * FROM pdm.window_features_unpartitioned;
INSERT INTO pdm.window_extras SELECT * FROM pdm.window_extras_unpartitioned;
INSERT INTO pdm.assessments SELECT * FROM pdm.assessments_unpartitioned;
INSERT INTO pdm.forecasts SELECT * FROM pdm.forecasts_unpartitioned;

DROP TABLE pdm.window_extras_unpartitioned, pdm.forecasts_unpartitioned;
DROP TABLE pdm.window_features_unpartitioned, pdm.assessments_unpartitioned;

-- As in 007.
CREATE VIEW pdm.window_channels AS
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

-- As before: the sink upserts (no DELETE: old days go by pdm.drop_day_partitions), the analyst reads.
GRANT SELECT, INSERT, UPDATE ON pdm.window_features, pdm.window_extras, pdm.assessments, pdm.forecasts TO pdm_writer;
GRANT SELECT ON pdm.window_features, pdm.window_extras, pdm.assessments, pdm.forecasts, pdm.window_channels TO pdm_analyst;

ANALYZE pdm.window_features, pdm.window_extras, pdm.assessments, pdm.forecasts;
