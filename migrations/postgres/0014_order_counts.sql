-- Live orders per tenant, UTC day of pbCreateDate and status, so that a search's exact total over
-- a window of whole days is a sum over at most (days x statuses x stripes) rows instead of a walk
-- over every matching order (store/sql/counts.rs reads them).
--
-- Kept by triggers, in the writing statement's own transaction: every path that writes orders
-- (insert, batch insert, update, soft delete, a DELETE by hand) keeps the counts right, and no
-- code path can forget to.
--
-- `stripe` spreads one tenant's writes of one day and status over several rows: the connection's
-- backend pid picks it, so concurrent creates on different connections do not queue on one row's
-- lock until each other's commit. Readers sum over every stripe.
CREATE TABLE order_counts (
    client_id TEXT     NOT NULL,
    day       BIGINT   NOT NULL, -- days since 1970-01-01 of pb_create_date in UTC
    status    TEXT     NOT NULL,
    stripe    SMALLINT NOT NULL,
    n         BIGINT   NOT NULL,
    PRIMARY KEY (client_id, day, status, stripe)
);

CREATE FUNCTION order_day(at TIMESTAMPTZ) RETURNS BIGINT
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN floor(extract(epoch FROM at) / 86400)::BIGINT;

-- One statement per firing, over the statement's transition tables: a batch insert adds its
-- orders in one upsert, and an update that moves no order between (day, status) writes nothing.
-- The upserted keys are sorted, so two transactions that each move an order between the same
-- two keys lock those rows in the same order and cannot deadlock.
CREATE FUNCTION order_counts_apply() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO order_counts AS c (client_id, day, status, stripe, n)
        SELECT client_id, order_day(pb_create_date), status, pg_backend_pid() % 8, count(*)
        FROM new_rows WHERE deleted_at IS NULL
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (client_id, day, status, stripe) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO order_counts AS c (client_id, day, status, stripe, n)
        SELECT client_id, day, status, pg_backend_pid() % 8, sum(d)
        FROM (
            SELECT client_id, order_day(pb_create_date) AS day, status, -1 AS d
            FROM old_rows WHERE deleted_at IS NULL
            UNION ALL
            SELECT client_id, order_day(pb_create_date), status, 1
            FROM new_rows WHERE deleted_at IS NULL
        ) moved
        GROUP BY 1, 2, 3 HAVING sum(d) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (client_id, day, status, stripe) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSE
        INSERT INTO order_counts AS c (client_id, day, status, stripe, n)
        SELECT client_id, order_day(pb_create_date), status, pg_backend_pid() % 8, -count(*)
        FROM old_rows WHERE deleted_at IS NULL
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (client_id, day, status, stripe) DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER order_counts_insert AFTER INSERT ON orders
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION order_counts_apply();
CREATE TRIGGER order_counts_update AFTER UPDATE ON orders
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION order_counts_apply();
CREATE TRIGGER order_counts_delete AFTER DELETE ON orders
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION order_counts_apply();

-- After the triggers, in the same transaction: CREATE TRIGGER holds off other writers until the
-- commit, so no order is written between the backfill and the first firing.
INSERT INTO order_counts (client_id, day, status, stripe, n)
SELECT client_id, order_day(pb_create_date), status, 0, count(*)
FROM orders WHERE deleted_at IS NULL
GROUP BY 1, 2, 3;

-- Tag and SKU rows carry their order's pbCreateDate, and only live orders have them (a soft
-- delete removes them, below), so that a search by one tag or SKU in a window counts its matches
-- from the side table's own index instead of probing every order of the window.
ALTER TABLE order_tags ADD COLUMN pb_create_date TIMESTAMPTZ;
ALTER TABLE order_skus ADD COLUMN pb_create_date TIMESTAMPTZ;

CREATE FUNCTION order_side_rows_forget() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM order_tags x USING new_rows n, old_rows o
    WHERE o.client_id = n.client_id AND o.order_id = n.order_id
      AND o.deleted_at IS NULL AND n.deleted_at IS NOT NULL
      AND x.client_id = n.client_id AND x.order_id = n.order_id;
    DELETE FROM order_skus x USING new_rows n, old_rows o
    WHERE o.client_id = n.client_id AND o.order_id = n.order_id
      AND o.deleted_at IS NULL AND n.deleted_at IS NOT NULL
      AND x.client_id = n.client_id AND x.order_id = n.order_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER order_side_rows_forget AFTER UPDATE ON orders
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION order_side_rows_forget();

UPDATE order_tags x SET pb_create_date = o.pb_create_date FROM orders o
WHERE o.client_id = x.client_id AND o.order_id = x.order_id;
UPDATE order_skus x SET pb_create_date = o.pb_create_date FROM orders o
WHERE o.client_id = x.client_id AND o.order_id = x.order_id;
DELETE FROM order_tags x USING orders o
WHERE o.client_id = x.client_id AND o.order_id = x.order_id AND o.deleted_at IS NOT NULL;
DELETE FROM order_skus x USING orders o
WHERE o.client_id = x.client_id AND o.order_id = x.order_id AND o.deleted_at IS NOT NULL;

CREATE INDEX order_tags_by_tag_date ON order_tags (client_id, tag_lc, pb_create_date, order_id);
CREATE INDEX order_skus_by_sku_date ON order_skus (client_id, sku_lc, pb_create_date, order_id);
