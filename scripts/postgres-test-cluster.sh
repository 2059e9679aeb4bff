#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: initdb in a new temporary folder, a free port on
# 127.0.0.1, password (SCRAM) logins over TCP. Source it, then call `postgres_test_cluster_start`:
# it exports POSTAL_GATEWAY_TEST_DATABASE_URL (the superuser's URL, database `postgres`; each
# test creates its own database) and stops the cluster when the shell exits.
#
#   source scripts/postgres-test-cluster.sh && postgres_test_cluster_start
#
# Uses Debian's PostgreSQL (apt-get install postgresql); as root, the server runs as the
# `postgres` user (initdb refuses root).

postgres_test_cluster_start() {
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
    echo "postgres-test-cluster: no PostgreSQL server (apt-get install postgresql)" >&2
    return 1
  fi
  local folder password port as=()
  folder="$(mktemp -d /tmp/postal-gateway-pg.XXXXXX)"
  password="$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  printf '%s\n' "$password" >"$folder/password"
  if [[ "$(id -u)" == 0 ]]; then
    chown -R postgres:postgres "$folder"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bin/initdb" -D "$folder/data" -U postal --pwfile="$folder/password" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-locale >"$folder/initdb.log" 2>&1 || {
    cat "$folder/initdb.log" >&2
    return 1
  }
  rm -f "$folder/password"
  "${as[@]}" "$bin/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $folder -c max_connections=1000 -c synchronous_commit=on -c fsync=on" \
    start >/dev/null || {
    cat "$folder/server.log" >&2
    return 1
  }
  export POSTAL_GATEWAY_TEST_DATABASE_URL="postgres://postal:$password@127.0.0.1:$port/postgres"
  POSTGRES_TEST_CLUSTER_STOP=("${as[@]}" "$bin/pg_ctl" -D "$folder/data" -m immediate stop)
  POSTGRES_TEST_CLUSTER_FOLDER="$folder"
  trap postgres_test_cluster_stop EXIT
  echo "postgres-test-cluster: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($folder)"
}

postgres_test_cluster_stop() {
  if [[ -n "${POSTGRES_TEST_CLUSTER_FOLDER:-}" ]]; then
    "${POSTGRES_TEST_CLUSTER_STOP[@]}" >/dev/null 2>&1 || true
    rm -rf "$POSTGRES_TEST_CLUSTER_FOLDER"
    POSTGRES_TEST_CLUSTER_FOLDER=""
  fi
}
