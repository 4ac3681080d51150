-- Search indexes for a million orders (see bench/results/explain-sqlite.txt).
--
-- Every page is sorted by a date with the order id as tie-breaker, and its keys are found before
-- its documents (store/sql.rs). Indexes that end in (date, order_id) give both in index order,
-- so page 1 reads 20 index entries instead of sorting the window and a deep page skips its
-- offset inside the index. The trailing deleted_at makes them covering: SQLite does not treat a
-- partial index as covering the column of its own WHERE clause, so without it every count and
-- every skipped row looked up the whole order (5 s to count six months of a million orders).
-- Order type had no index at all.
DROP INDEX orders_live_pb_create;
CREATE INDEX orders_live_pb_create
    ON orders (client_id, pb_create_date, order_id, deleted_at) WHERE deleted_at IS NULL;
DROP INDEX orders_live_status;
CREATE INDEX orders_live_status
    ON orders (client_id, status, pb_create_date, order_id, deleted_at) WHERE deleted_at IS NULL;
DROP INDEX orders_live_brand;
CREATE INDEX orders_live_brand
    ON orders (client_id, brand_lc, pb_create_date, order_id, deleted_at) WHERE deleted_at IS NULL;
CREATE INDEX orders_live_order_type
    ON orders (client_id, order_type_lc, pb_create_date, order_id, deleted_at)
    WHERE deleted_at IS NULL;
DROP INDEX orders_live_pb_update;
CREATE INDEX orders_live_pb_update
    ON orders (client_id, pb_update_date, order_id, deleted_at) WHERE deleted_at IS NULL;
DROP INDEX orders_live_create_date;
CREATE INDEX orders_live_create_date
    ON orders (client_id, create_date, order_id, deleted_at) WHERE deleted_at IS NULL;
DROP INDEX orders_live_update_date;
CREATE INDEX orders_live_update_date
    ON orders (client_id, update_date, order_id, deleted_at) WHERE deleted_at IS NULL;
DROP INDEX orders_live_customer;
CREATE INDEX orders_live_customer
    ON orders (client_id, customer_id_lc, deleted_at) WHERE deleted_at IS NULL;
DROP INDEX orders_live_client_order_id;
CREATE INDEX orders_live_client_order_id
    ON orders (client_id, client_order_id_lc, deleted_at) WHERE deleted_at IS NULL;
