-- Orders keyed by tenant; the JSON document is the order, the other columns serve search.
-- Dates are TIMESTAMPTZ; the document is JSONB so operators can query it too.
CREATE TABLE orders (
    client_id          TEXT    NOT NULL,
    order_id           TEXT    NOT NULL,
    client_order_id    TEXT    NOT NULL,
    client_order_id_lc TEXT    NOT NULL,
    brand_lc           TEXT,
    order_type_lc      TEXT,
    customer_id_lc     TEXT,
    status             TEXT    NOT NULL,
    create_date        TIMESTAMPTZ,
    update_date        TIMESTAMPTZ,
    pb_create_date     TIMESTAMPTZ    NOT NULL,
    pb_update_date     TIMESTAMPTZ    NOT NULL,
    deleted_at         TIMESTAMPTZ,
    version            BIGINT  NOT NULL,
    doc                JSONB    NOT NULL,
    PRIMARY KEY (client_id, order_id)
);

CREATE UNIQUE INDEX orders_order_id_key ON orders (order_id);
CREATE UNIQUE INDEX orders_client_order_id_live_key
    ON orders (client_id, client_order_id) WHERE deleted_at IS NULL;
CREATE INDEX orders_live_pb_create ON orders (client_id, pb_create_date) WHERE deleted_at IS NULL;
CREATE INDEX orders_live_status ON orders (client_id, status, pb_create_date) WHERE deleted_at IS NULL;
CREATE INDEX orders_live_client_order_id ON orders (client_id, client_order_id_lc) WHERE deleted_at IS NULL;
CREATE INDEX orders_live_brand ON orders (client_id, brand_lc, pb_create_date) WHERE deleted_at IS NULL;
CREATE INDEX orders_live_customer ON orders (client_id, customer_id_lc) WHERE deleted_at IS NULL;
CREATE INDEX orders_live_create_date ON orders (client_id, create_date) WHERE deleted_at IS NULL;
CREATE INDEX orders_live_update_date ON orders (client_id, update_date) WHERE deleted_at IS NULL;
CREATE INDEX orders_live_pb_update ON orders (client_id, pb_update_date) WHERE deleted_at IS NULL;

CREATE TABLE order_tags (
    client_id TEXT NOT NULL,
    order_id  TEXT NOT NULL,
    tag_lc    TEXT NOT NULL,
    PRIMARY KEY (client_id, order_id, tag_lc)
);
CREATE INDEX order_tags_by_tag ON order_tags (client_id, tag_lc);

CREATE TABLE order_skus (
    client_id TEXT NOT NULL,
    order_id  TEXT NOT NULL,
    sku_lc    TEXT NOT NULL,
    PRIMARY KEY (client_id, order_id, sku_lc)
);
CREATE INDEX order_skus_by_sku ON order_skus (client_id, sku_lc);

-- One row per (client, idempotency key): the request it guarded and the order it created.
CREATE TABLE idempotency_keys (
    client_id    TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    order_id     TEXT NOT NULL,
    snapshot     JSONB NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (client_id, idem_key)
);
