#!/usr/bin/env bash
# Idempotent set-up of the order-flow platform's local prerequisites.
#
#   bash scripts/setup.sh      or      source scripts/setup.sh   (from start.sh / test.sh)
#
# 1. npm ci, only when node_modules is missing or package-lock.json changed since the last install
# 2. installs nats-server / clickhouse-server with apt-get when they are not on PATH
# 3. starts NATS (JetStream) and ClickHouse under $ORDERFLOW_DATA_DIR when nothing answers on
#    their ports (see scripts/lib/services.mjs `ensure`); pid files go to $ORDERFLOW_DATA_DIR/run/.
#    Its NATS has the platform's users, each limited to its subjects (scripts/lib/nats-accounts.mjs),
#    with passwords generated once into $ORDERFLOW_DATA_DIR/secrets/nats-*.password; a NATS server
#    it did not start is used as it is, with a warning that those users are not in force there.
#    When ORDERFLOW_STARTED_FILE is set, the pid files of servers started by THIS run are appended
#    to it, so that start.sh / test.sh can stop exactly those (and nothing else) afterwards.
#
# When sourced, the platform's environment variables are exported with their defaults filled in.
# A second run with everything in place is a fast no-op.

_orderflow_setup() (
  set -euo pipefail

  # sbin dirs are not on a non-root PATH on Debian, but nats-server / clickhouse-server live there
  export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  cd "$root"

  say() { echo "setup: $*"; }

  # --- 1. npm dependencies -------------------------------------------------------------------
  if [[ -f package-lock.json ]]; then
    if [[ ! -d node_modules ]]; then
      say "npm ci (node_modules is missing)"
      npm ci --no-audit --no-fund
      touch node_modules/.package-lock.json
    elif [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
      say "npm ci (package-lock.json is newer than node_modules)"
      npm ci --no-audit --no-fund
      touch node_modules/.package-lock.json
    else
      say "node_modules is up to date, skipping npm ci"
    fi
  elif [[ ! -d node_modules ]]; then
    say "npm install (no package-lock.json, node_modules is missing)"
    npm install --no-audit --no-fund
    touch node_modules/.package-lock.json
  else
    say "node_modules present (no package-lock.json), skipping npm install"
  fi

  # --- 2. system packages ----------------------------------------------------------------------
  local sudo=()
  if [[ $EUID -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else sudo=(false); fi
  fi
  local apt_updated=0
  apt_install() {
    if [[ ${sudo[0]:-} == false ]]; then
      echo "setup: error: need root or sudo to apt-get install $*" >&2
      return 1
    fi
    if [[ $apt_updated -eq 0 ]]; then
      say "apt-get update"
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
      apt_updated=1
    fi
    say "apt-get install -y $*"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
  }

  if command -v nats-server >/dev/null 2>&1; then
    say "nats-server found at $(command -v nats-server)"
  else
    apt_install nats-server
  fi
  if command -v clickhouse-server >/dev/null 2>&1; then
    say "clickhouse-server found at $(command -v clickhouse-server)"
  else
    apt_install clickhouse-server clickhouse-client
  fi
  # the replicated-schema suite runs a standalone ZooKeeper (tests/src/proof/clickhouse-replicas.int.spec.ts)
  # (npm test only: test.sh sets ORDERFLOW_TEST_SETUP=1; the platform itself never needs it)
  if [[ -f /usr/share/java/zookeeper.jar ]]; then
    say "zookeeper found at /usr/share/java/zookeeper.jar"
  elif [[ "${ORDERFLOW_TEST_SETUP:-0}" == 1 ]]; then
    apt_install zookeeper
  fi
  # promtool checks and unit-tests the chart's alert rules (deploy/src/observability.spec.ts), from
  # Debian's prometheus package (npm test only). Only promtool is wanted: no recommended node
  # exporter, and the package's prometheus service is neither started (a policy-rc.d denies it
  # during the install, unless the machine has its own) nor enabled, so nothing stays on port 9090.
  if command -v promtool >/dev/null 2>&1; then
    say "promtool found at $(command -v promtool)"
  elif [[ "${ORDERFLOW_TEST_SETUP:-0}" == 1 ]]; then
    local policy=/usr/sbin/policy-rc.d own_policy=0 rc=0
    if [[ ! -e $policy && ${sudo[0]:-} != false ]]; then
      printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
      "${sudo[@]}" chmod 755 "$policy"
      own_policy=1
    fi
    apt_install --no-install-recommends prometheus || rc=$?
    if [[ $own_policy == 1 ]]; then "${sudo[@]}" rm -f "$policy"; fi
    [[ $rc -eq 0 ]] || return "$rc"
    # removes the boot-time links (systemd and SysV); stops a service the machine's policy let start
    "${sudo[@]}" systemctl disable prometheus >/dev/null 2>&1 || true
    if [[ -d /run/systemd/system ]]; then
      "${sudo[@]}" systemctl stop prometheus >/dev/null 2>&1 || true
    elif [[ -x /etc/init.d/prometheus ]]; then
      "${sudo[@]}" /etc/init.d/prometheus stop >/dev/null 2>&1 || true
    fi
  fi
  # the dashboard's browser tests and benchmark drive Debian's Chromium (never a downloaded browser)
  if [[ -x /usr/bin/chromium ]]; then
    say "chromium found at /usr/bin/chromium"
  elif [[ "${ORDERFLOW_SKIP_CHROMIUM:-0}" == 1 ]]; then
    say "ORDERFLOW_SKIP_CHROMIUM=1: not installing chromium (the browser tests will skip)"
  else
    apt_install chromium
  fi

  # --- 3. servers ------------------------------------------------------------------------------
  export ORDERFLOW_DATA_DIR="${ORDERFLOW_DATA_DIR:-$root/.data}"
  mkdir -p "$ORDERFLOW_DATA_DIR/logs" "$ORDERFLOW_DATA_DIR/run"
  node scripts/lib/services.mjs ensure
)

_orderflow_export_env() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  export ORDERFLOW_DATA_DIR="${ORDERFLOW_DATA_DIR:-$root/.data}"
  export NATS_HOST="${NATS_HOST:-127.0.0.1}"
  export NATS_PORT="${NATS_PORT:-4222}"
  export NATS_URL="${NATS_URL:-nats://$NATS_HOST:$NATS_PORT}"
  export CLICKHOUSE_HOST="${CLICKHOUSE_HOST:-127.0.0.1}"
  export CLICKHOUSE_PORT="${CLICKHOUSE_PORT:-8123}"
  export CLICKHOUSE_TCP_PORT="${CLICKHOUSE_TCP_PORT:-9000}"
  export CLICKHOUSE_URL="${CLICKHOUSE_URL:-http://$CLICKHOUSE_HOST:$CLICKHOUSE_PORT}"
  # CLICKHOUSE_USER / CLICKHOUSE_PASSWORD stay unset unless given: the services then use the role
  # users with the passwords of $ORDERFLOW_DATA_DIR/secrets (scripts/lib/services.mjs platformEnv)
  export CLICKHOUSE_DATABASE="${CLICKHOUSE_DATABASE:-orderflow}"
  export DASHBOARD_PORT="${DASHBOARD_PORT:-8080}"
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  # sourced: do not touch the caller's shell options; export the environment on success
  _orderflow_setup && _orderflow_export_env
  _orderflow_setup_rc=$?
  unset -f _orderflow_setup _orderflow_export_env
  return $_orderflow_setup_rc
else
  _orderflow_setup
fi
