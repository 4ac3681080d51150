-- Every search shape at a million orders, not only the benchmark's (bench/results/explain-sqlite.txt).
--
-- Sorting by createDate, updateDate or pbUpdateDate walks that date's index while the default
-- six-month window is on pbCreateDate. Walking oldest first, three quarters of the entries are
-- outside the window, and each was checked by reading its whole order: 15 to 40 s for page 1.
-- With the window column (and the common filters, status and order type) in the sort indexes,
-- the check stays in the index. The status index also carries order type, so that a status and
-- type count does not read every order in the window either.
DROP INDEX orders_live_create_date;
CREATE INDEX orders_live_create_date
    ON orders (client_id, create_date, order_id, pb_create_date, status, order_type_lc, deleted_at)
    WHERE deleted_at IS NULL;
DROP INDEX orders_live_update_date;
CREATE INDEX orders_live_update_date
    ON orders (client_id, update_date, order_id, pb_create_date, status, order_type_lc, deleted_at)
    WHERE deleted_at IS NULL;
DROP INDEX orders_live_pb_update;
CREATE INDEX orders_live_pb_update
    ON orders (client_id, pb_update_date, order_id, pb_create_date, status, order_type_lc, deleted_at)
    WHERE deleted_at IS NULL;
DROP INDEX orders_live_status;
CREATE INDEX orders_live_status
    ON orders (client_id, status, pb_create_date, order_id, order_type_lc, deleted_at)
    WHERE deleted_at IS NULL;
