-- Webhooks (issue 21). Times here are milliseconds since the epoch (BIGINT), the same integer on
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
    previous_secret_until BIGINT,
    status                TEXT   NOT NULL,
    disabled_reason       TEXT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_client ON webhook_endpoints (client_id, created_at);

-- The outbox: one row per (endpoint, event), written in the transaction of the change. id is
-- the order in which one order's events reach one endpoint: a change of an order takes its row
-- lock before its delivery rows take ids, so a later version always has a larger id.
CREATE TABLE webhook_deliveries (
    id              BIGSERIAL PRIMARY KEY,
    endpoint_id     TEXT    NOT NULL,
    client_id       TEXT    NOT NULL,
    order_id        TEXT    NOT NULL,
    version         BIGINT  NOT NULL,
    event_type      TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at BIGINT  NOT NULL,
    first_failed_at BIGINT,
    lease_until     BIGINT,
    completed_at    BIGINT
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
    id           BIGSERIAL PRIMARY KEY,
    delivery_id  BIGINT  NOT NULL,
    endpoint_id  TEXT    NOT NULL,
    attempted_at BIGINT  NOT NULL,
    status_code  INTEGER,
    latency_ms   BIGINT  NOT NULL,
    error        TEXT
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id);
