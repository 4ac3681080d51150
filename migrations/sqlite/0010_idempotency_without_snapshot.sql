-- A replay reads the order it names; a second full copy of every order made in the last
-- 24 hours is not kept.
ALTER TABLE idempotency_keys DROP COLUMN snapshot;
