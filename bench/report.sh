#!/usr/bin/env bash
# The whole of docs/performance.md's load report in one command: builds the release
# binaries, then runs steady chat, the maximum and the drain on SQLite and on PostgreSQL
# (each Switchboard run after the bare relay, in the same invocation) and the 19,000
# sockets on SQLite. Tables go to the terminal, JSON to the output directory.
#
#   bench/report.sh [output directory, default target/load-report]
#
# PostgreSQL: SWITCHBOARD_LOAD_POSTGRES names the server (default
# postgres://postgres@127.0.0.1:5432); a database `switchboard_load` is created empty
# for each run and dropped after it. SWITCHBOARD_LOAD_POSTGRES=none leaves PostgreSQL out.
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-target/load-report}"
postgres="${SWITCHBOARD_LOAD_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
mkdir -p "$out"
cargo build --release -p switchboard-cli -p switchboard-bench
load=target/release/switchboard-load

steady=(--customers 1000 --agents 100 --capacity 10 --rate 5 --ramp 5 --hold 20)
maximum=(--customers 2000 --agents 200 --capacity 10 --rate max --ramp 5 --hold 20)
drain=(--drain 10000 --agents 200 --capacity 50)
sockets=(--no-baseline --customers 19000 --agents 200 --capacity 60 --rate 0.05 --ramp 60 --hold 30
  --sources 127.0.0.1,127.0.0.2,127.0.0.3)

run() {
  local name=$1
  shift
  echo "== $name"
  "$load" "$@" --json "$out/$name.json"
}

on_postgres() {
  local name=$1
  shift
  psql -q "$postgres/postgres" -c 'DROP DATABASE IF EXISTS switchboard_load' -c 'CREATE DATABASE switchboard_load'
  run "$name" "$@" --database-url "$postgres/switchboard_load"
  psql -q "$postgres/postgres" -c 'DROP DATABASE switchboard_load'
}

run steady-sqlite "${steady[@]}"
run max-sqlite "${maximum[@]}"
run drain-sqlite "${drain[@]}"
if [ "$postgres" != none ]; then
  on_postgres steady-postgres "${steady[@]}"
  on_postgres max-postgres "${maximum[@]}"
  on_postgres drain-postgres "${drain[@]}"
fi
run sockets-sqlite "${sockets[@]}"
echo "JSON in $out"
