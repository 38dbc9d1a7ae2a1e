-- Which sensor: every alert and assessment names the channels that drove it (AlertEvent.drivers,
-- MachineAssessment.deviation.drivers: channel, contribution, value, expected), and an assessment
-- says the machine's state. jsonb: an array of a few objects per row, read whole; analysts can
-- still ask `drivers @> '[{"channel": "tempA.mean"}]'` (and index it with GIN when they do).

ALTER TABLE pdm.alerts ADD COLUMN IF NOT EXISTS drivers jsonb NOT NULL DEFAULT '[]'::jsonb;

ALTER TABLE pdm.assessments ADD COLUMN IF NOT EXISTS state text;                           -- ok, at-risk, warming-up, off
ALTER TABLE pdm.assessments ADD COLUMN IF NOT EXISTS deviation_score double precision;     -- the per-machine detector's score
ALTER TABLE pdm.assessments ADD COLUMN IF NOT EXISTS deviation_threshold double precision;
ALTER TABLE pdm.assessments ADD COLUMN IF NOT EXISTS drivers jsonb;
