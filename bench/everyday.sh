#!/usr/bin/env bash
# Issue 17 items 2 and 3 on the seeded million of bench/run.sh (PostgreSQL oms_bench and
# bench/work/oms_bench.db, tenant 1000; run.sh seeds them, or `oms seed --orders 1000000
# --clients 1 --seed 42`):
#   - the everyday list: no filter at all (the default six-month window, newest first), page 1
#     and page 500, Fulfillment and SendPro360, and the same over a two-year window;
#   - fair share: tenant 1000 runs 16 concurrent searches of the heaviest allowed shape while
#     tenant 1001 reads its orders by id; 1001's p99 and statuses are what counts;
#   - the three search shapes issue 17 names, timed as single executions after a warm-up.
# Writes bench/results/everyday.jsonl and prints a markdown table per backend.
#   BENCH_BACKENDS ("postgres sqlite"), BENCH_CONCURRENCY (8), BENCH_SECONDS (15)
set -euo pipefail
export OMS_JWT_SECRET=oms-bench-secret-0123456789abcdef
cd "$(dirname "$0")/.."

C=${BENCH_CONCURRENCY:-8}
SECS=${BENCH_SECONDS:-15}
WARM=3
BACKENDS=${BENCH_BACKENDS:-postgres sqlite}
PG_URL=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}/${BENCH_DB:-oms_bench}
SQLITE_FILE=bench/work/oms_bench.db
OMS=target/release/oms
LOADGEN=bench/loadgen/target/release/oms-loadgen
PORT=18081
BASE=http://127.0.0.1:$PORT
FF=$BASE/shippingservices/fulfillment/v1/orders
SP=$BASE/ordermanagement/api/v1/orders
A=1000
B=1001
WORK=bench/work/everyday
OUT=bench/results/everyday.jsonl
mkdir -p "$WORK"
: >"$OUT"

[ -x "$OMS" ] || cargo build --release
[ -x "$LOADGEN" ] || (cd bench/loadgen && cargo build --release)

SERVER_PID=
start_server() { # database-url
    OMS_BIND=127.0.0.1:$PORT DATABASE_URL=$1 "$OMS" serve >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 6000); do
        if curl -fs "$BASE/healthz" >/dev/null 2>&1; then return 0; fi
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
        sleep 0.1
    done
    echo "oms did not come up" >&2
    exit 1
}
stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}
trap stop_server EXIT

record() { # backend scenario stats-json
    python3 - "$@" <<'PY' >>"$OUT"
import json, sys
backend, scenario, stats = sys.argv[1:4]
s = json.loads(stats)
s.update(backend=backend, scenario=scenario)
print(json.dumps(s))
PY
    tail -n 1 "$OUT"
}

load() { # backend scenario connections loadgen-args...
    local backend=$1 scenario=$2 c=$3
    shift 3
    "$LOADGEN" -c "$c" -z "$WARM" "$@" >/dev/null
    record "$backend" "$scenario" "$("$LOADGEN" -c "$c" -z "$SECS" "$@")"
}

NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
TWO_YEARS=$(date -u -d '730 days ago' +%Y-%m-%dT%H:%M:%SZ)
printf '{"clientId":"%s"}' "$A" >"$WORK/default.json"
printf '{"clientId":"%s","searchFields":[{"name":"pbCreateDate","values":["%s","%s"]}]}' \
    "$A" "$TWO_YEARS" "$NOW" >"$WORK/two-years.json"
printf '{"page":0,"size":20}' >"$WORK/sendpro-page-1.json"
printf '{"page":499,"size":20}' >"$WORK/sendpro-page-500.json"
# The largest search check_shape allows that no index narrows: 10 criteria, 200 values.
python3 - >"$WORK/heaviest.json" <<'PY'
import json
vals = lambda p: [f"{p}{i}" for i in range(20)]
filters = []
for _ in range(5):
    filters.append({"name": "tagIds", "value": vals("t")})
    filters.append({"name": "itemId", "value": vals("s")})
print(json.dumps({"filters": filters, "page": 0, "size": 20}))
PY

measure() { # backend database-url
    local backend=$1 url=$2
    start_server "$url"
    local ta tb
    ta=$(DATABASE_URL=$url "$OMS" token --client-id "$A" --ttl 14400)
    tb=$(DATABASE_URL=$url "$OMS" token --client-id "$B" --ttl 14400)
    local ha=(-H "Authorization: Bearer $ta" -H "X-PB-TransactionId: bench-list" -H "Content-Type: application/json")
    local hb=(-H "Authorization: Bearer $tb" -H "X-PB-TransactionId: bench-b" -H "Content-Type: application/json")

    local totals=""
    for page in 1 500; do
        load "$backend" "list default window page $page" "$C" -m POST "${ha[@]}" \
            -D "$WORK/default.json" "$FF/search?page=$page&size=20"
        load "$backend" "list two years page $page" "$C" -m POST "${ha[@]}" \
            -D "$WORK/two-years.json" "$FF/search?page=$page&size=20"
        load "$backend" "sendpro list default window page $page" "$C" -m POST "${ha[@]}" \
            -D "$WORK/sendpro-page-$page.json" "$SP/search"
    done
    totals="default window $(curl -fsS -X POST "${ha[@]}" -d @"$WORK/default.json" "$FF/search?size=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["totalElements"])'), two years $(curl -fsS -X POST "${ha[@]}" -d @"$WORK/two-years.json" "$FF/search?size=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["totalElements"])')"
    echo "$backend totals: $totals" | tee -a "$WORK/totals.txt"

    # Tenant B: a few orders of its own to read (removed afterwards by the cleanup below).
    sed "s/\"clientId\": \"1000\"/\"clientId\": \"$B\"/; s/BENCH-{n}/FAIR-$backend-{n}/" \
        bench/create-order.json >"$WORK/create-b.json"
    : >"$WORK/b-paths.txt"
    for n in $(seq 1 20); do
        sed "s/{n}/$n/" "$WORK/create-b.json" |
            curl -fsS -X POST -H "Authorization: Bearer $tb" -H "X-PB-TransactionId: fair-$backend-$n-$$" \
                -H "Content-Type: application/json" -d @- "$FF" |
            python3 -c "import json,sys; print('/ordermanagement/api/v1/orders/' + json.load(sys.stdin)['orderId'])" \
                >>"$WORK/b-paths.txt"
    done
    # B alone first, then beside A's 16 heaviest searches.
    load "$backend" "fair share: B get alone" "$C" "${hb[@]}" --paths "$WORK/b-paths.txt" "$BASE"
    "$LOADGEN" -c 16 -z $((SECS + 2 * WARM)) -m POST "${ha[@]}" -D "$WORK/heaviest.json" "$SP/search" \
        >"$WORK/a-heaviest.json" &
    local a_pid=$!
    sleep "$WARM"
    record "$backend" "fair share: B get beside A's 16 heaviest searches" \
        "$("$LOADGEN" -c "$C" -z "$SECS" "${hb[@]}" --paths "$WORK/b-paths.txt" "$BASE")"
    wait "$a_pid"
    record "$backend" "fair share: A's 16 heaviest searches" "$(cat "$WORK/a-heaviest.json")"

    # Single executions, after one warm-up each: the shapes issue 17 lists.
    single() { # name url body
        curl -fsS -o /dev/null -X POST "${ha[@]}" -d "$3" "$2"
        local t
        t=$(curl -fsS -o /dev/null -w '%{time_total}' -X POST "${ha[@]}" -d "$3" "$2")
        record "$backend" "single: $1" "{\"ms\": $(python3 -c "print(round($t * 1000, 1))")}"
    }
    single "createDate oldest first, default window" "$FF/search?page=1&size=20" \
        "{\"clientId\":\"$A\",\"sort\":[\"createDate-asc\"]}"
    single "SendPro360 by tag" "$SP/search" '{"filters":[{"name":"tagIds","value":["vip"]}],"page":0,"size":20}'
    single "SendPro360 by item" "$SP/search" '{"filters":[{"name":"itemId","value":["0007-0012"]}],"page":0,"size":20}'
    stop_server
}

cleanup_b() { # backend
    local sql="DELETE FROM order_tags WHERE client_id = '$B'; DELETE FROM order_skus WHERE client_id = '$B';
DELETE FROM order_events WHERE client_id = '$B'; DELETE FROM idempotency_keys WHERE client_id = '$B';
DELETE FROM orders WHERE client_id = '$B';"
    if [ "$1" = postgres ]; then psql -XAtq "$PG_URL" -c "$sql" >/dev/null; else sqlite3 "$SQLITE_FILE" "$sql"; fi
}

for backend in $BACKENDS; do
    cleanup_b "$backend"
    if [ "$backend" = postgres ]; then measure postgres "$PG_URL"; else measure sqlite "sqlite://$SQLITE_FILE"; fi
    cleanup_b "$backend"
done

python3 - "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("| backend | scenario | req/s | p50 ms | p99 ms | statuses |")
print("| --- | --- | ---: | ---: | ---: | --- |")
for r in rows:
    if "ms" in r:
        print(f"| {r['backend']} | {r['scenario']} | | {r['ms']} | | |")
    else:
        st = ", ".join(f"{k}: {v}" for k, v in r.get("statuses", {}).items())
        print(f"| {r['backend']} | {r['scenario']} | {r['rps']:,.1f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {st} |")
PY
