-- pdm.machine_control: every request of pdm.machine-control.v1 (MachineControl), the audit trail of
-- who asked for what about which machine, and when: `pdmctl machines relearn` and any service that
-- sends on the topic. Keyed by the request's UUID, so a replay changes no row. Written by
-- sink-postgres; read by analysts on the follower.

CREATE TABLE IF NOT EXISTS pdm.machine_control (
  request_id    text        PRIMARY KEY,
  machine_id    text        NOT NULL,
  action        text        NOT NULL,  -- RELEARN; actions added later (ACK, SILENCE, ...) need no migration
  requested_by  text        NOT NULL,
  requested_at  timestamptz NOT NULL,  -- by the requester's clock
  reason        text
);

-- "a machine's requests, latest first" and "every request of last week".
CREATE INDEX IF NOT EXISTS machine_control_machine_requested_at ON pdm.machine_control (machine_id, requested_at);
CREATE INDEX IF NOT EXISTS machine_control_requested_at ON pdm.machine_control (requested_at);

-- As in 004: 002's default privileges cover it for the same owner; explicit for any other.
GRANT SELECT, INSERT, UPDATE ON pdm.machine_control TO pdm_writer;
GRANT SELECT ON pdm.machine_control TO pdm_analyst;
