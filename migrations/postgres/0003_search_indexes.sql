-- Search indexes for a million orders (see bench/results/explain-postgres.txt).
--
-- Every page is sorted by a date with the order id as tie-breaker, and its keys are found before
-- its documents (store/sql.rs). Indexes that end in (date, order_id) give both in index order:
-- page 1 reads 20 index entries instead of sorting the whole window, a deep page skips its
-- offset inside the index, and counts stay index-only. Order type had no index at all, so its
-- searches scanned the table.
DROP INDEX orders_live_pb_create;
CREATE INDEX orders_live_pb_create
    ON orders (client_id, pb_create_date, order_id) WHERE deleted_at IS NULL;
DROP INDEX orders_live_status;
CREATE INDEX orders_live_status
    ON orders (client_id, status, pb_create_date, order_id) WHERE deleted_at IS NULL;
DROP INDEX orders_live_brand;
CREATE INDEX orders_live_brand
    ON orders (client_id, brand_lc, pb_create_date, order_id) WHERE deleted_at IS NULL;
CREATE INDEX orders_live_order_type
    ON orders (client_id, order_type_lc, pb_create_date, order_id) WHERE deleted_at IS NULL;
DROP INDEX orders_live_pb_update;
CREATE INDEX orders_live_pb_update
    ON orders (client_id, pb_update_date, order_id) WHERE deleted_at IS NULL;
DROP INDEX orders_live_create_date;
CREATE INDEX orders_live_create_date
    ON orders (client_id, create_date, order_id) WHERE deleted_at IS NULL;
DROP INDEX orders_live_update_date;
CREATE INDEX orders_live_update_date
    ON orders (client_id, update_date, order_id) WHERE deleted_at IS NULL;
