#!/usr/bin/env bash
# The create rate of two oms builds, in turns on one machine: what a change to the write path
# costs. Each build serves a fresh database of its own (PostgreSQL and SQLite), and creates run
# for BENCH_SECONDS, A then B, BENCH_ROUNDS times, so that a drift in the machine's load hits
# both alike. The load is bench/loadgen's create (the seed sample, 8 connections).
#
#   bash bench/compare-creates.sh OLD_BINARY NEW_BINARY
#
# Environment [defaults]: BENCH_SECONDS [10], BENCH_ROUNDS [3], BENCH_CONCURRENCY [8], BENCH_PG
# [postgres://postgres@127.0.0.1:5432], BENCH_BACKENDS ["postgres sqlite"].
# Prints one JSON line per run, then the median requests/s of each build per backend.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
A=$1
B=$2
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
C=${BENCH_CONCURRENCY:-8}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
BACKENDS=${BENCH_BACKENDS:-postgres sqlite}
WORK=bench/work/compare-creates
LOADGEN=bench/loadgen/target/release/oms-loadgen
PORT=18091
export OMS_JWT_SECRET=oms-bench-secret-0123456789abcdef RUST_LOG=${RUST_LOG:-warn}
mkdir -p "$WORK"
[ -x "$LOADGEN" ] || cargo build --release --quiet --manifest-path bench/loadgen/Cargo.toml

run() { # backend label binary url
    OMS_BIND=127.0.0.1:$PORT DATABASE_URL=$4 "$3" serve >"$WORK/oms.log" 2>&1 &
    local pid=$!
    for _ in $(seq 300); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
    local token prefix
    token=$(DATABASE_URL=$4 "$3" token --client-id 1000)
    prefix=$(printf 'c%x%x-' "$(date +%s)" "$RANDOM")
    "$LOADGEN" -c "$C" -z "$SECS" -m POST -H "Authorization: Bearer $token" \
        -H "X-PB-TransactionId: {n}" -H 'Content-Type: application/json' \
        -D bench/create-order.json --prefix "$prefix" \
        "http://127.0.0.1:$PORT/shippingservices/fulfillment/v1/orders" >"$WORK/run.json"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    python3 -c 'import json,sys; r=json.load(open(sys.argv[3])); assert set(r["statuses"])=={"201"}, r["statuses"]; print(json.dumps({"backend":sys.argv[1],"build":sys.argv[2],"rps":r["rps"],"p99_ms":r["p99_ms"]}))' "$1" "$2" "$WORK/run.json"
}

for backend in $BACKENDS; do
    for build in A B; do
        if [ "$backend" = postgres ]; then
            psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS oms_compare_${build,,} WITH (FORCE)" -c "CREATE DATABASE oms_compare_${build,,}"
        else
            rm -f "$WORK/$build".db*
        fi
    done
    url() { [ "$backend" = postgres ] && echo "$PG/oms_compare_${1,,}" || echo "sqlite://$WORK/$1.db"; }
    for round in $(seq "$ROUNDS"); do
        run "$backend" A "$A" "$(url A)"
        run "$backend" B "$B" "$(url B)"
    done
done | tee "$WORK/runs.jsonl"
python3 - "$WORK/runs.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
for backend in dict.fromkeys(r["backend"] for r in runs):
    med = {b: statistics.median(r["rps"] for r in runs if r["backend"] == backend and r["build"] == b) for b in "AB"}
    print(f"{backend}: A {med['A']:.0f}/s, B {med['B']:.0f}/s, B/A {med['B'] / med['A']:.0%}")
PY
