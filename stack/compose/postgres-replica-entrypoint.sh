#!/bin/sh
# Entrypoint of the streaming follower: on first start (empty data folder) it clones the primary
# with pg_basebackup, which writes standby.signal and primary_conninfo (-R) and creates the
# replication slot pdm_follower (-C -S) so the primary keeps the WAL the follower still needs.
# Then it runs Postgres as a hot standby; once connected Postgres logs "started streaming WAL".
# PGPASSWORD is the password of the primary's `replicator` role.
set -eu

: "${PGDATA:=/var/lib/postgresql/data}"
: "${PGPASSWORD:?set PGPASSWORD to the replicator password}"
export PGDATA PGPASSWORD

PRIMARY_HOST=postgres
SLOT=pdm_follower

# Postgres refuses to run as root: when started as root, drop to the image's postgres user.
if [ "$(id -u)" = 0 ]; then
  as_postgres() { gosu postgres "$@"; }
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
else
  as_postgres() { "$@"; }
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  attempt=1
  until
    # Anything left by an interrupted earlier attempt would make pg_basebackup refuse the folder.
    find "$PGDATA" -mindepth 1 -delete 2> /dev/null || true
    # A slot left by an earlier follower would make -C fail; its WAL is of use to no one now.
    as_postgres psql -h "$PRIMARY_HOST" -U replicator -d postgres -qAt \
      -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$SLOT' AND NOT active" \
      > /dev/null 2>&1 || true
    as_postgres pg_basebackup -h "$PRIMARY_HOST" -U replicator -D "$PGDATA" -R -X stream -C -S "$SLOT" --checkpoint=fast
  do
    if [ "$attempt" -ge 30 ]; then
      echo "pdm-replica: pg_basebackup from $PRIMARY_HOST failed $attempt times; giving up" >&2
      exit 1
    fi
    echo "pdm-replica: pg_basebackup failed (attempt $attempt), retrying in 2s" >&2
    attempt=$((attempt + 1))
    sleep 2
  done
  chmod 700 "$PGDATA"
fi

set -- postgres -D "$PGDATA" \
  -c 'listen_addresses=*' \
  -c hot_standby=on \
  -c hot_standby_feedback=on \
  -c max_wal_senders=10 \
  -c max_replication_slots=10
if [ "$(id -u)" = 0 ]; then
  exec gosu postgres "$@"
fi
exec "$@"
