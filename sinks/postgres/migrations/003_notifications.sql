-- pdm.notifications: the email sink's notification log (CONTRACT.md), one row per alert
-- transition mailed to one recipient. The sink claims a row (outcome 'pending') before it sends
-- and records the outcome after: a replay or a restart finds 'sent' and mails nothing twice;
-- 'failed' (or a 'pending' left by a crash) is sent again. Several rows share a message_id when
-- one mail carried several transitions (a group or a digest).
CREATE SCHEMA IF NOT EXISTS pdm;

CREATE TABLE IF NOT EXISTS pdm.notifications (
  dedup_key   text        NOT NULL,
  transition  text        NOT NULL,  -- FIRING:<alertId>, ESCALATED:<severity>:<alertId>, REMINDER:<n>:<alertId>, RESOLVED:<alertId>
  recipient   text        NOT NULL,
  alert_id    text        NOT NULL,  -- the AlertEvent the mail showed
  machine_id  text        NOT NULL,
  kind        text        NOT NULL CHECK (kind IN ('FIRING', 'ESCALATED', 'REMINDER', 'RESOLVED')),
  severity    text        NOT NULL,
  digest      boolean     NOT NULL DEFAULT false,
  outcome     text        NOT NULL CHECK (outcome IN ('pending', 'sent', 'failed')),
  attempts    integer     NOT NULL DEFAULT 0,
  subject     text,
  message_id  text,
  error       text,
  claimed_at  timestamptz NOT NULL,
  sent_at     timestamptz,
  updated_at  timestamptz NOT NULL,
  PRIMARY KEY (dedup_key, transition, recipient)
);

CREATE INDEX IF NOT EXISTS notifications_machine_claimed ON pdm.notifications (machine_id, claimed_at);
CREATE INDEX IF NOT EXISTS notifications_claimed_at ON pdm.notifications (claimed_at);
