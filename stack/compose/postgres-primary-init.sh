#!/bin/sh
# Runs once, when the postgres image initialises an empty data folder (docker-entrypoint-initdb.d),
# as the postgres user against the image's temporary server. Sets up what `pdmctl stack up` sets up
# on its primary: the replication role the follower streams with, the pipeline's role and database.
# Passwords come from PDM_DB_PASSWORD and reach SQL as psql variables, quoted by psql.
set -eu

: "${PDM_DB_PASSWORD:?set PDM_DB_PASSWORD}"

psql -v ON_ERROR_STOP=1 \
  --username "${POSTGRES_USER:-postgres}" \
  --dbname "${POSTGRES_DB:-postgres}" \
  --set=pw="$PDM_DB_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'pw';
CREATE ROLE pdm WITH LOGIN CREATEROLE PASSWORD :'pw';
CREATE DATABASE pdm OWNER pdm;
SQL

# The image's pg_hba.conf allows password logins to every database from anywhere, but a
# replication connection matches only lines naming `replication`.
echo 'host replication replicator all scram-sha-256' >> "$PGDATA/pg_hba.conf"
