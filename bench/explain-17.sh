#!/usr/bin/env bash
# Plans and single-execution times of the statements oms issues for the issue 17 shapes, on the
# seeded million (tenant 1000): the everyday list's counted total and page 500 (six months and two
# years), createDate oldest first in the default window, SendPro360 by tag and by item. The
# statements are those PostgreSQL logged for these requests (log_statement=all), with the
# parameters written in. Each runs once to warm up, then is explained with its time.
# Writes bench/results/explain-17-{postgres,sqlite}.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_URL=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}/${BENCH_DB:-oms_bench}
SQLITE_FILE=bench/work/oms_bench.db
OUT=bench/results

NOW=$(date -u +%s)
SINCE=$(date -u -d '6 months ago' +%s)
TWO=$((NOW - 730 * 86400))
day_after() { echo $(($1 / 86400 + 1)); }
pg_time() { date -u -d "@$1" +'%Y-%m-%d %H:%M:%S+00'; }
lite_time() { date -u -d "@$1" +'%Y-%m-%dT%H:%M:%S+00:00'; }

statements() { # time-format-function
    local t=$1 since two next_since next_two
    since=$($t "$SINCE"); two=$($t "$TWO")
    next_since=$($t $(( $(day_after "$SINCE") * 86400 ))); next_two=$($t $(( $(day_after "$TWO") * 86400 )))
    cat <<SQL
-- list, default window: counted total
SELECT CAST((SELECT COALESCE(SUM(c.n), 0) FROM order_counts c WHERE c.client_id = '1000' AND c.day >= $(day_after "$SINCE")) + (SELECT COUNT(*) FROM orders o WHERE o.client_id = '1000' AND o.deleted_at IS NULL AND o.pb_create_date >= '$since' AND o.pb_create_date < '$next_since') AS BIGINT);
-- list, default window: page 500
SELECT d.doc FROM orders d JOIN (SELECT o.client_id, o.order_id, o.pb_create_date FROM orders o WHERE o.client_id = '1000' AND o.deleted_at IS NULL AND (1 = 1 AND o.pb_create_date >= '$since') ORDER BY o.pb_create_date DESC, o.order_id DESC LIMIT 20 OFFSET 9980) p ON d.client_id = p.client_id AND d.order_id = p.order_id ORDER BY p.pb_create_date DESC, p.order_id DESC;
-- list, two years: counted total (the edge up to now is today's orders)
SELECT CAST((SELECT COALESCE(SUM(c.n), 0) FROM order_counts c WHERE c.client_id = '1000' AND c.day >= $(day_after "$TWO") AND c.day < $((NOW / 86400))) + (SELECT COUNT(*) FROM orders o WHERE o.client_id = '1000' AND o.deleted_at IS NULL AND o.pb_create_date >= '$two' AND o.pb_create_date < '$next_two') + (SELECT COUNT(*) FROM orders o WHERE o.client_id = '1000' AND o.deleted_at IS NULL AND o.pb_create_date >= '$($t $((NOW / 86400 * 86400)))' AND o.pb_create_date <= '$($t "$NOW")') AS BIGINT);
-- createDate oldest first, default window: page 1 (its total is the counted one above)
SELECT d.doc FROM orders d JOIN (SELECT o.client_id, o.order_id, o.create_date FROM orders o WHERE o.client_id = '1000' AND o.deleted_at IS NULL AND (1 = 1 AND o.pb_create_date >= '$since') ORDER BY o.create_date ASC NULLS LAST, o.order_id ASC LIMIT 20 OFFSET 0) p ON d.client_id = p.client_id AND d.order_id = p.order_id ORDER BY p.create_date ASC NULLS LAST, p.order_id ASC;
-- SendPro360 by tag: count, from the tag rows' own index
SELECT CAST(COUNT(*) AS BIGINT) FROM order_tags x WHERE x.client_id = '1000' AND x.tag_lc IN ('vip') AND x.pb_create_date >= '$since';
-- SendPro360 by tag: page 1
SELECT d.doc FROM orders d JOIN (SELECT o.client_id, o.order_id, o.pb_create_date FROM orders o WHERE o.client_id = '1000' AND o.deleted_at IS NULL AND EXISTS (SELECT 1 FROM order_tags x WHERE x.client_id = o.client_id AND x.order_id = o.order_id AND x.tag_lc IN ('vip')) AND (1 = 1 AND o.pb_create_date >= '$since') ORDER BY o.pb_create_date DESC, o.order_id DESC LIMIT 20 OFFSET 0) p ON d.client_id = p.client_id AND d.order_id = p.order_id ORDER BY p.pb_create_date DESC, p.order_id DESC;
-- SendPro360 by item: count, from the SKU rows' own index
SELECT CAST(COUNT(*) AS BIGINT) FROM order_skus x WHERE x.client_id = '1000' AND x.sku_lc IN ('0007-0012') AND x.pb_create_date >= '$since';
-- SendPro360 by item: page 1
SELECT d.doc FROM orders d JOIN (SELECT o.client_id, o.order_id, o.pb_create_date FROM orders o WHERE o.client_id = '1000' AND o.deleted_at IS NULL AND EXISTS (SELECT 1 FROM order_skus x WHERE x.client_id = o.client_id AND x.order_id = o.order_id AND x.sku_lc IN ('0007-0012')) AND (1 = 1 AND o.pb_create_date >= '$since') ORDER BY o.pb_create_date DESC, o.order_id DESC LIMIT 20 OFFSET 0) p ON d.client_id = p.client_id AND d.order_id = p.order_id ORDER BY p.pb_create_date DESC, p.order_id DESC;
SQL
}

explain_pg() {
    echo "# PostgreSQL $(psql -XAtq "$PG_URL" -c 'SHOW server_version'), $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    statements pg_time | while IFS= read -r line; do
        case "$line" in
        --*) echo; echo "$line" ;;
        *)
            psql -XAtq "$PG_URL" -c "SET jit = off" -c "$line" >/dev/null
            psql -XAtq "$PG_URL" -c "SET jit = off" -c "EXPLAIN (ANALYZE, BUFFERS) $line"
            ;;
        esac
    done
}

explain_sqlite() {
    echo "# SQLite $(sqlite3 --version | cut -d' ' -f1) CLI, $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    statements lite_time | sed 's/ NULLS LAST//g' | while IFS= read -r line; do
        case "$line" in
        --*) echo; echo "$line" ;;
        *)
            sqlite3 -readonly "$SQLITE_FILE" "$line" >/dev/null
            sqlite3 -readonly "$SQLITE_FILE" "EXPLAIN QUERY PLAN $line"
            printf '.timer on\n%s\n' "$line" | sqlite3 -readonly "$SQLITE_FILE" | grep '^Run Time' || true
            ;;
        esac
    done
}

case "${1:-both}" in
postgres) explain_pg >"$OUT/explain-17-postgres.txt" ;;
sqlite) explain_sqlite >"$OUT/explain-17-sqlite.txt" ;;
*)
    explain_pg >"$OUT/explain-17-postgres.txt"
    explain_sqlite >"$OUT/explain-17-sqlite.txt"
    ;;
esac
