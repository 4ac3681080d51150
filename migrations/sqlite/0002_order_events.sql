-- Order history, appended in the same transaction as each change.
CREATE TABLE order_events (
    client_id      TEXT    NOT NULL,
    order_id       TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    event_type     TEXT    NOT NULL,
    occurred_at    TEXT    NOT NULL,
    actor          TEXT    NOT NULL,
    transaction_id TEXT,
    changed_fields TEXT    NOT NULL,
    PRIMARY KEY (client_id, order_id, version)
) WITHOUT ROWID;
