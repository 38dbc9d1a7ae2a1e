-- pdm.alert_actions: every action of pdm.alert-control.v1 (AlertControl), the audit trail of who
-- acknowledged or silenced what, when, and why: `pdmctl alerts`, the API (the console), and any
-- service that writes the topic. Keyed by the action's UUID, so a replay changes no row. Written by
-- sink-postgres; read by the API and analysts on the follower. The email sink does not read it: it
-- follows the topic itself.

CREATE TABLE IF NOT EXISTS pdm.alert_actions (
  request_id    text        PRIMARY KEY,
  action        text        NOT NULL,  -- ACK, SILENCE, UNSILENCE; actions added later need no migration
  machine_id    text,                  -- ACK: the alert's machine; SILENCE: a machine id or pattern (* any characters), NULL: every machine
  kind          text,                  -- SILENCE: the alert kind it holds, NULL: every kind
  alert_id      text,                  -- ACK: the FIRING transition acknowledged (its episode, until the alert resolves)
  dedup_key     text,                  -- ACK: the alert acknowledged
  silence_id    text,                  -- UNSILENCE: the request_id of the SILENCE it ends
  starts_at     timestamptz,           -- SILENCE: from (inclusive)
  ends_at       timestamptz,           -- SILENCE: until (exclusive), unless an UNSILENCE ends it earlier
  requested_by  text        NOT NULL,
  requested_at  timestamptz NOT NULL,  -- by the requester's clock; an UNSILENCE ends its silence at this time
  reason        text
);

-- "every action of last week", "a machine's actions", "an alert's acknowledgements", "the end of a silence".
CREATE INDEX IF NOT EXISTS alert_actions_requested_at ON pdm.alert_actions (requested_at);
CREATE INDEX IF NOT EXISTS alert_actions_machine_requested_at ON pdm.alert_actions (machine_id, requested_at);
CREATE INDEX IF NOT EXISTS alert_actions_acks ON pdm.alert_actions (dedup_key, requested_at) WHERE action = 'ACK';
CREATE INDEX IF NOT EXISTS alert_actions_unsilences ON pdm.alert_actions (silence_id, requested_at) WHERE action = 'UNSILENCE';

-- Each silence with its end: the first UNSILENCE of it, if any. `active` is at the reader's now():
-- begun, and before both its end and an UNSILENCE (least() passes over a NULL).
CREATE OR REPLACE VIEW pdm.silences AS
  SELECT s.request_id AS silence_id, s.machine_id, s.kind, s.starts_at, s.ends_at,
         s.requested_by, s.requested_at, s.reason,
         e.requested_at AS ended_at, e.requested_by AS ended_by, e.reason AS ended_reason,
         (s.starts_at <= now() AND now() < least(s.ends_at, e.requested_at)) AS active
  FROM pdm.alert_actions s
  LEFT JOIN LATERAL (
    SELECT u.requested_at, u.requested_by, u.reason FROM pdm.alert_actions u
    WHERE u.action = 'UNSILENCE' AND u.silence_id = s.request_id
    ORDER BY u.requested_at, u.request_id LIMIT 1
  ) e ON true
  WHERE s.action = 'SILENCE';

-- The latest acknowledgement of each alert (dedup key). It holds for the firing episode of
-- alert_id: a RESOLVED transition of the dedup key after that one ends it (pdm.alerts tells).
CREATE OR REPLACE VIEW pdm.alert_acknowledgements AS
  SELECT DISTINCT ON (dedup_key) dedup_key, machine_id, alert_id, request_id, requested_by, requested_at, reason
  FROM pdm.alert_actions
  WHERE action = 'ACK'
  ORDER BY dedup_key, requested_at DESC, request_id DESC;

-- As in 004: 002's default privileges cover the table for the same owner; explicit for any other.
-- The views read as their owner; the analyst needs SELECT on them only.
GRANT SELECT, INSERT, UPDATE ON pdm.alert_actions TO pdm_writer;
GRANT SELECT ON pdm.alert_actions, pdm.silences, pdm.alert_acknowledgements TO pdm_analyst;
