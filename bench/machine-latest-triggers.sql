-- What migration 010's triggers (pdm.machine_latest) add to the sink's statements: 60 statement
-- pairs of 500 machines' hourly windows and assessments (the sink's upserts, narrowed to the
-- required columns), the triggers alternately disabled and enabled; prints the mean of each.
-- Each statement pair commits, as the sink's batches do (an update then finds the previous
-- version of a machine's row committed, and prunes it in place). On a schema with every migration
-- that nobody else writes (it disables triggers), e.g. one left by `npx pdmctl bench postgres --keep`:
--   psql "$DATABASE_URL" -v schema=bench_pg_<stamp>_part -f bench/machine-latest-triggers.sql
-- Its rows are in days of 2001, dropped at the end (drop_day_partitions, which also removes the
-- machines from machine_latest).
SET search_path = :"schema";
SELECT count(*) AS partitions_made FROM (SELECT create_day_partitions(d::date) FROM generate_series(date '2001-01-01', date '2001-01-03', interval '1 day') d) x;
DO $$
DECLARE
  i int; t0 timestamptz; on_ms float := 0; off_ms float := 0; base timestamptz;
BEGIN
  FOR i IN 0..59 LOOP
    base := timestamptz '2001-01-01' + i * interval '1 hour';
    IF i % 2 = 0 THEN
      ALTER TABLE assessments DISABLE TRIGGER machine_latest_inserted;
      ALTER TABLE window_features DISABLE TRIGGER machine_latest_inserted;
    ELSE
      ALTER TABLE assessments ENABLE TRIGGER machine_latest_inserted;
      ALTER TABLE window_features ENABLE TRIGGER machine_latest_inserted;
    END IF;
    t0 := clock_timestamp();
    INSERT INTO window_features AS t (machine_id, window_start, window_end, count, current_count, accx_count, accy_count, accz_count, tempa_count, tempb_count)
    SELECT 'trigger-bench-' || m, base, base + interval '1 hour', 1, 1, 1, 1, 1, 1, 1 FROM generate_series(1, 500) m
    ON CONFLICT (machine_id, window_start) DO UPDATE SET count = EXCLUDED.count WHERE t.count IS DISTINCT FROM EXCLUDED.count;
    INSERT INTO assessments AS t (machine_id, window_start, window_end, state, anomaly_score, anomaly_threshold, detector_model, detector_version)
    SELECT 'trigger-bench-' || m, base, base + interval '1 hour', 'ok', 1, 2, 'd', 'v' FROM generate_series(1, 500) m
    ON CONFLICT (machine_id, window_end) DO UPDATE SET state = EXCLUDED.state WHERE t.state IS DISTINCT FROM EXCLUDED.state;
    IF i % 2 = 0 THEN
      off_ms := off_ms + extract(epoch FROM clock_timestamp() - t0) * 1000;
    ELSE
      on_ms := on_ms + extract(epoch FROM clock_timestamp() - t0) * 1000;
    END IF;
    COMMIT;
  END LOOP;
  ALTER TABLE assessments ENABLE TRIGGER machine_latest_inserted;
  ALTER TABLE window_features ENABLE TRIGGER machine_latest_inserted;
  RAISE NOTICE '500 windows + 500 assessments of 500 machines: % ms without the triggers, % ms with them', round((off_ms / 30)::numeric, 1), round((on_ms / 30)::numeric, 1);
END $$;
SELECT count(*) AS partitions_dropped FROM (SELECT drop_day_partitions(d::date) FROM generate_series(date '2001-01-01', date '2001-01-03', interval '1 day') d) x;
SELECT count(*) AS machines_left FROM machine_latest WHERE machine_id LIKE 'trigger-bench-%';
