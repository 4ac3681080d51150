-- Every search shape at a million orders, not only the benchmark's
-- (bench/results/explain-postgres.txt).
--
-- Sorting by createDate, updateDate or pbUpdateDate walks that date's index while the default
-- six-month window is on pbCreateDate; every entry outside the window was checked by reading
-- its row (0.4 to 0.8 s for page 1). With the window column and the common filters (status,
-- order type) included, the check stays in an index-only scan. The status index also carries
-- order type for status and type counts, and the tag and SKU indexes carry the order id, so
-- that a tag or SKU filter is answered from the index.
DROP INDEX orders_live_create_date;
CREATE INDEX orders_live_create_date ON orders (client_id, create_date, order_id)
    INCLUDE (pb_create_date, status, order_type_lc) WHERE deleted_at IS NULL;
DROP INDEX orders_live_update_date;
CREATE INDEX orders_live_update_date ON orders (client_id, update_date, order_id)
    INCLUDE (pb_create_date, status, order_type_lc) WHERE deleted_at IS NULL;
DROP INDEX orders_live_pb_update;
CREATE INDEX orders_live_pb_update ON orders (client_id, pb_update_date, order_id)
    INCLUDE (pb_create_date, status, order_type_lc) WHERE deleted_at IS NULL;
DROP INDEX orders_live_status;
CREATE INDEX orders_live_status ON orders (client_id, status, pb_create_date, order_id)
    INCLUDE (order_type_lc) WHERE deleted_at IS NULL;
DROP INDEX order_tags_by_tag;
CREATE INDEX order_tags_by_tag ON order_tags (client_id, tag_lc, order_id);
DROP INDEX order_skus_by_sku;
CREATE INDEX order_skus_by_sku ON order_skus (client_id, sku_lc, order_id);
