-- Order history, appended in the same transaction as each change.
CREATE TABLE order_events (
    client_id      TEXT        NOT NULL,
    order_id       TEXT        NOT NULL,
    version        BIGINT      NOT NULL,
    event_type     TEXT        NOT NULL,
    occurred_at    TIMESTAMPTZ NOT NULL,
    actor          TEXT        NOT NULL,
    transaction_id TEXT,
    changed_fields JSONB       NOT NULL,
    PRIMARY KEY (client_id, order_id, version)
);
