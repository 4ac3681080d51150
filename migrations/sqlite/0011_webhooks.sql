-- Webhooks (issue 21). Times here are milliseconds since the epoch (INTEGER), the same integer on
-- both backends, so that the dispatcher's comparisons read the same in one statement.

-- A tenant's subscriptions. The secret signs deliveries, so it is kept as issued (a hash could
-- not sign); after a rotation the previous one also signs until previous_secret_until.
-- event_types: '*' for every event, else the subscribed types between spaces (' order.created ').
CREATE TABLE webhook_endpoints (
    id                    TEXT PRIMARY KEY,
    client_id             TEXT   NOT NULL,
    url                   TEXT   NOT NULL,
    description           TEXT,
    event_types           TEXT   NOT NULL,
    secret                TEXT   NOT NULL,
    previous_secret       TEXT,
    previous_secret_until INTEGER,
    status                TEXT   NOT NULL,
    disabled_reason       TEXT,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_client ON webhook_endpoints (client_id, created_at);

-- The outbox: one row per (endpoint, event), written in the transaction of the change. id is
-- the order in which one order's events reach one endpoint: SQLite has one writer at a time,
-- so a later version always has a larger id.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id     TEXT    NOT NULL,
    client_id       TEXT    NOT NULL,
    order_id        TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    event_type      TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    first_failed_at INTEGER,
    lease_until     INTEGER,
    completed_at    INTEGER
);
-- What the dispatcher looks for: due deliveries, and whether an earlier one of the same order
-- is still pending for the same endpoint.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_head ON webhook_deliveries (endpoint_id, client_id, order_id, id)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
-- The purge of old finished deliveries.
CREATE INDEX webhook_deliveries_done ON webhook_deliveries (completed_at) WHERE state <> 'pending';

-- The delivery log: one row per attempt.
CREATE TABLE webhook_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id  INTEGER NOT NULL,
    endpoint_id  TEXT    NOT NULL,
    attempted_at INTEGER NOT NULL,
    status_code  INTEGER,
    latency_ms   INTEGER NOT NULL,
    error        TEXT
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id);
