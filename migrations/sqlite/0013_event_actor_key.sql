-- The API key whose token made a change (NULL for tokens without one: `oms token`, external
-- issuers), so history tells which of a tenant's keys acted.
ALTER TABLE order_events ADD COLUMN actor_key TEXT;
