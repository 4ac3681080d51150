#!/usr/bin/env bash
# Webhooks (issue 21): what the outbox costs a create, and how fast the dispatcher delivers.
#
#   bash bench/webhooks.sh
#
# Per backend, on a fresh database: creates for BENCH_SECONDS with no endpoint, then with one
# subscribed endpoint, BENCH_ROUNDS times in turns (none, one, none, one, ...), so that a change
# in the machine's load hits both alike: once with the dispatcher off (the outbox write alone), once with it
# delivering to a local receiver meanwhile (the whole cost on the same cores). Then events
# delivered per second: creates queue deliveries for a paused endpoint, it is resumed, and the
# receiver times the backlog from its first to its last request.
# Environment [defaults]: BENCH_SECONDS [10], BENCH_ROUNDS [3], BENCH_CONCURRENCY [8], BENCH_PG
# [postgres://postgres@127.0.0.1:5432], BENCH_BACKENDS ["postgres sqlite"], BENCH_BUILD [1] (0
# runs the release binaries as they are).
# Results: bench/results/webhooks.jsonl (raw); `python3 bench/webhooks_summary.py` prints the
# medians and ratios that bench/results/webhooks.md quotes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
C=${BENCH_CONCURRENCY:-8}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
BACKENDS=${BENCH_BACKENDS:-postgres sqlite}
DB=oms_webhooks_bench
WORK=bench/work/webhooks
OUT=bench/results/webhooks.jsonl
PORT=18090
BASE=http://127.0.0.1:$PORT
FF=$BASE/shippingservices/fulfillment/v1/orders
HOOKS=$BASE/oms/v1/webhooks/endpoints
OMS=target/release/oms
LOADGEN=bench/loadgen/target/release/oms-loadgen
SINK=bench/loadgen/target/release/webhook-sink
export OMS_JWT_SECRET=oms-bench-secret-0123456789abcdef
export OMS_WEBHOOKS_ALLOW_PRIVATE=true
export RUST_LOG=${RUST_LOG:-warn}

mkdir -p "$WORK"
: >"$OUT"
if [ "${BENCH_BUILD:-1}" = 1 ]; then
    cargo build --release --quiet
    cargo build --release --quiet --manifest-path bench/loadgen/Cargo.toml
fi

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

start_sink() { # name [--expect N]; sets SINK_URL
    local name=$1
    shift
    "$SINK" "$@" >"$WORK/sink-$name.out" &
    PIDS+=($!)
    for _ in $(seq 100); do
        grep -q listening "$WORK/sink-$name.out" 2>/dev/null && break
        sleep 0.05
    done
    SINK_URL="http://$(awk '/listening/ {print $2}' "$WORK/sink-$name.out")/hook"
}

start_oms() { # database-url
    OMS_BIND=127.0.0.1:$PORT DATABASE_URL=$1 "$OMS" serve >"$WORK/oms.log" 2>&1 &
    OMS_PID=$!
    PIDS+=($OMS_PID)
    for _ in $(seq 300); do
        curl -fs "$BASE/healthz" >/dev/null 2>&1 && return 0
        kill -0 "$OMS_PID" 2>/dev/null || { cat "$WORK/oms.log" >&2; exit 1; }
        sleep 0.1
    done
    echo "oms did not start" >&2
    exit 1
}

hook() { # method url [json]
    curl -fsS -X "$1" "$2" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        ${3:+-d "$3"}
}

creates() { # backend label seconds
    # Transaction ids are at most 25 characters: a short run id, then the request's number.
    local prefix
    prefix=$(printf 'w%x%x-' "$(date +%s)" "$RANDOM")
    timeout $(($3 + 60)) "$LOADGEN" -c "$C" -z "$3" -m POST -H "Authorization: Bearer $TOKEN" \
        -H "X-PB-TransactionId: {n}" -H 'Content-Type: application/json' \
        -D bench/create-order.json --prefix "$prefix" "$FF" >"$WORK/$1-$2.json"
    python3 - "$1" "$2" "$WORK/$1-$2.json" >>"$OUT" <<'PY'
import json, sys
backend, label, path = sys.argv[1:]
r = json.load(open(path))
if set(r["statuses"]) != {"201"}:
    sys.exit(f"{backend} {label}: not every create was 201: {r['statuses']}")
print(json.dumps({"backend": backend, "scenario": label, "rps": r["rps"], "p50_ms": r["p50_ms"],
                  "p99_ms": r["p99_ms"], "requests": r["requests"]}))
PY
}

for backend in $BACKENDS; do
    if [ "$backend" = postgres ]; then
        psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
        URL=$PG/$DB
    else
        rm -f "$WORK"/bench.db*
        URL=sqlite://$WORK/bench.db
    fi
    TOKEN=$(DATABASE_URL=$URL "$OMS" token --client-id 1000)
    start_sink "$backend-live"
    # First with no dispatcher, so that "one" measures the outbox write alone; then as served,
    # the dispatcher delivering each event to the receiver while the creates run.
    for dispatch in false true; do
        OMS_WEBHOOKS_DISPATCH=$dispatch start_oms "$URL"
        label=$([ "$dispatch" = true ] && echo delivering || echo outbox)
        creates "$backend" "warmup-$label" 3
        for round in $(seq "$ROUNDS"); do
            creates "$backend" "none-$label-$round" "$SECS"
            id=$(hook POST "$HOOKS" "{\"url\": \"$SINK_URL\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
            creates "$backend" "one-$label-$round" "$SECS"
            # Its queued deliveries go with it: the next "none" round runs beside no backlog.
            hook DELETE "$HOOKS/$id" >/dev/null
        done
        [ "$dispatch" = true ] || { kill "$OMS_PID"; wait "$OMS_PID" 2>/dev/null || true; }
    done

    # Delivery rate: a backlog for a paused endpoint, then resumed.
    id=$(hook POST "$HOOKS" '{"url": "http://127.0.0.1:9/unused"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    hook POST "$HOOKS/$id/pause" >/dev/null
    creates "$backend" backlog 10
    queued=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["requests"])' "$WORK/$backend-backlog.json")
    start_sink "$backend-backlog" --expect "$queued"
    hook PATCH "$HOOKS/$id" "{\"url\": \"$SINK_URL\"}" >/dev/null
    hook POST "$HOOKS/$id/resume" >/dev/null
    for _ in $(seq 1200); do
        grep -q received "$WORK/sink-$backend-backlog.out" && break
        sleep 0.1
    done
    python3 - "$backend" "$WORK/sink-$backend-backlog.out" >>"$OUT" <<'PY'
import json, sys
line = [l for l in open(sys.argv[2]) if l.startswith("{")]
r = json.loads(line[0]) if line else {"received": None, "seconds": None, "per_second": None}
print(json.dumps({"backend": sys.argv[1], "scenario": "deliveries", **r}))
PY
    kill "$OMS_PID"
    wait "$OMS_PID" 2>/dev/null || true
done
python3 bench/webhooks_summary.py "$OUT"
