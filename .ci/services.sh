#!/usr/bin/env bash
# Makes sure every local server Concord's tests use is up and configured: starts any that is
# down (commands from shared/services.md), turns on PostgreSQL logical WAL and MariaDB
# row-based binlog when they are off, and fails loudly when a server cannot be reached.
#
# `npm test` runs it with --best-effort: then it configures what it can (as root, on a machine
# with the servers installed locally, like the project's), says what it could not, and never
# fails the test command itself (tests needing a missing server skip, naming it; under CI=true
# they fail). CONCORD_SKIP_SERVICE_SETUP=1 turns it off.
set -uo pipefail

log() { printf '[services] %s\n' "$*"; }

best_effort=0
[ "${1:-}" = --best-effort ] && best_effort=1
if [ "${CONCORD_SKIP_SERVICE_SETUP:-}" = 1 ]; then exit 0; fi
if [ $best_effort = 1 ] && { [ "$(id -u)" != 0 ] || ! command -v psql >/dev/null || ! command -v mariadb >/dev/null; }; then
  log "not root or no local psql/mariadb: leaving the servers as they are (WAL and binlog tailing tests need"
  log "PostgreSQL wal_level=logical and MariaDB log_bin with binlog_format=ROW; see .ci/services.sh)"
  exit 0
fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # name port seconds
  local i
  for ((i = 0; i < $3 * 4; i++)); do port_open "$2" && return 0; sleep 0.25; done
  log "ERROR: $1 did not come up on port $2 within $3 s"
  return 1
}

start_postgres() { pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start; }
start_mariadb() { start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd; }
start_redis() {
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
}
start_rabbitmq() { rabbitmq-server -detached; }
start_nats() {
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
}

ensure() { # name port start-fn seconds
  if port_open "$2"; then return 0; fi
  log "$1 is down on port $2: starting it"
  "$3" >/dev/null 2>&1 || log "start command for $1 returned non-zero"
  wait_port "$1" "$2" "$4"
}

psql_q() { psql -h 127.0.0.1 -U postgres -d postgres -tAc "$1"; }
maria_q() { mariadb -uroot -h127.0.0.1 -N -e "$1"; }

ensure_pg_logical() {
  local level
  level=$(psql_q "SHOW wal_level") || return 1
  [ "$level" = logical ] && return 0
  log "PostgreSQL wal_level is '$level': setting logical and restarting"
  psql_q "ALTER SYSTEM SET wal_level = logical" >/dev/null || return 1
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main restart || return 1
  wait_port PostgreSQL 5432 60
  sleep 1
  [ "$(psql_q "SHOW wal_level")" = logical ]
}

ensure_maria_binlog() {
  local bin fmt
  bin=$(maria_q "SELECT @@log_bin") || return 1
  fmt=$(maria_q "SELECT @@binlog_format") || return 1
  [ "$bin" = 1 ] && [ "$fmt" = ROW ] && return 0
  log "MariaDB log_bin=$bin binlog_format=$fmt: enabling row-based binlog and restarting"
  mkdir -p /etc/mysql/mariadb.conf.d
  grep -q 'includedir /etc/mysql/mariadb.conf.d' /etc/mysql/my.cnf || printf '\n!includedir /etc/mysql/mariadb.conf.d/\n' >>/etc/mysql/my.cnf
  cat >/etc/mysql/mariadb.conf.d/60-concord-binlog.cnf <<'CNF'
[mysqld]
server_id = 1
log_bin = mysql-bin
binlog_format = ROW
binlog_row_image = FULL
binlog_expire_logs_seconds = 86400
CNF
  mariadb-admin -uroot -h127.0.0.1 shutdown || return 1
  local i
  # the port closes before the process exits; start-stop-daemon would see it still running
  for ((i = 0; i < 240; i++)); do pgrep -x mariadbd >/dev/null || break; sleep 0.25; done
  start_mariadb
  wait_port MariaDB 3306 60 || return 1
  for ((i = 0; i < 40; i++)); do maria_q "SELECT 1" >/dev/null 2>&1 && break; sleep 0.25; done
  [ "$(maria_q "SELECT @@binlog_format")" = ROW ]
}

failed=0
ensure PostgreSQL 5432 start_postgres 60 || failed=1
ensure MariaDB 3306 start_mariadb 60 || failed=1
ensure Redis 6379 start_redis 30 || failed=1
ensure RabbitMQ 5672 start_rabbitmq 120 || failed=1
ensure NATS 4222 start_nats 30 || failed=1
if [ $failed = 0 ]; then
  ensure_pg_logical || { log "ERROR: could not enable PostgreSQL logical replication"; failed=1; }
  ensure_maria_binlog || { log "ERROR: could not enable MariaDB row-based binlog"; failed=1; }
fi
[ $failed = 0 ] && log "all servers up and configured"
if [ $best_effort = 1 ] && [ $failed != 0 ]; then
  log "continuing: tests that need what is missing will skip or fail naming it"
  exit 0
fi
exit $failed
