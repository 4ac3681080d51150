-- Live orders per tenant, UTC day of pbCreateDate and status, so that a search's exact total over
-- a window of whole days is a sum over at most (days x statuses) rows instead of a walk over
-- every matching order (store/sql/counts.rs reads them).
--
-- Kept by triggers, in the writing statement's own transaction: every path that writes orders
-- (insert, batch insert, update, soft delete, a DELETE by hand) keeps the counts right, and no
-- code path can forget to. SQLite has one writer, so one row per key is enough (PostgreSQL's
-- table has stripes against lock queues).
CREATE TABLE order_counts (
    client_id TEXT    NOT NULL,
    day       INTEGER NOT NULL, -- days since 1970-01-01 of pb_create_date in UTC
    status    TEXT    NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (client_id, day, status)
) WITHOUT ROWID;

-- pb_create_date is RFC 3339 text; strftime('%s') reads it with its offset, as UTC seconds.
CREATE TRIGGER order_counts_insert AFTER INSERT ON orders
WHEN NEW.deleted_at IS NULL
BEGIN
    INSERT INTO order_counts (client_id, day, status, n)
    VALUES (NEW.client_id, CAST(strftime('%s', NEW.pb_create_date) AS INTEGER) / 86400,
            NEW.status, 1)
    ON CONFLICT (client_id, day, status) DO UPDATE SET n = n + 1;
END;

-- An update moves an order out of its old key and into its new one only when the key changed
-- or the order was deleted or restored; every other update leaves the counts alone.
CREATE TRIGGER order_counts_update_out AFTER UPDATE ON orders
WHEN OLD.deleted_at IS NULL AND (NEW.deleted_at IS NOT NULL OR NEW.status IS NOT OLD.status
     OR NEW.pb_create_date IS NOT OLD.pb_create_date OR NEW.client_id IS NOT OLD.client_id)
BEGIN
    UPDATE order_counts SET n = n - 1
    WHERE client_id = OLD.client_id
      AND day = CAST(strftime('%s', OLD.pb_create_date) AS INTEGER) / 86400
      AND status = OLD.status;
END;

CREATE TRIGGER order_counts_update_in AFTER UPDATE ON orders
WHEN NEW.deleted_at IS NULL AND (OLD.deleted_at IS NOT NULL OR NEW.status IS NOT OLD.status
     OR NEW.pb_create_date IS NOT OLD.pb_create_date OR NEW.client_id IS NOT OLD.client_id)
BEGIN
    INSERT INTO order_counts (client_id, day, status, n)
    VALUES (NEW.client_id, CAST(strftime('%s', NEW.pb_create_date) AS INTEGER) / 86400,
            NEW.status, 1)
    ON CONFLICT (client_id, day, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER order_counts_delete AFTER DELETE ON orders
WHEN OLD.deleted_at IS NULL
BEGIN
    UPDATE order_counts SET n = n - 1
    WHERE client_id = OLD.client_id
      AND day = CAST(strftime('%s', OLD.pb_create_date) AS INTEGER) / 86400
      AND status = OLD.status;
END;

INSERT INTO order_counts (client_id, day, status, n)
SELECT client_id, CAST(strftime('%s', pb_create_date) AS INTEGER) / 86400, status, count(*)
FROM orders WHERE deleted_at IS NULL
GROUP BY 1, 2, 3;

-- Tag and SKU rows carry their order's pbCreateDate, and only live orders have them (a soft
-- delete removes them, below), so that a search by one tag or SKU in a window counts its matches
-- from the side table's own index instead of probing every order of the window.
ALTER TABLE order_tags ADD COLUMN pb_create_date TEXT;
ALTER TABLE order_skus ADD COLUMN pb_create_date TEXT;

CREATE TRIGGER order_side_rows_forget AFTER UPDATE ON orders
WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL
BEGIN
    DELETE FROM order_tags WHERE client_id = NEW.client_id AND order_id = NEW.order_id;
    DELETE FROM order_skus WHERE client_id = NEW.client_id AND order_id = NEW.order_id;
END;

UPDATE order_tags SET pb_create_date = (SELECT o.pb_create_date FROM orders o
    WHERE o.client_id = order_tags.client_id AND o.order_id = order_tags.order_id);
UPDATE order_skus SET pb_create_date = (SELECT o.pb_create_date FROM orders o
    WHERE o.client_id = order_skus.client_id AND o.order_id = order_skus.order_id);
DELETE FROM order_tags WHERE (client_id, order_id) IN
    (SELECT client_id, order_id FROM orders WHERE deleted_at IS NOT NULL);
DELETE FROM order_skus WHERE (client_id, order_id) IN
    (SELECT client_id, order_id FROM orders WHERE deleted_at IS NOT NULL);

CREATE INDEX order_tags_by_tag_date ON order_tags (client_id, tag_lc, pb_create_date, order_id);
CREATE INDEX order_skus_by_sku_date ON order_skus (client_id, sku_lc, pb_create_date, order_id);
