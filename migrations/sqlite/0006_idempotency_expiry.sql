-- Idempotency records are kept 24 hours; the server purges older ones in batches, found by age.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
