-- Searches count their matches with index-only scans, which stay index-only only on heap pages
-- the visibility map knows to be all-visible. Every create or update clears that for its page,
-- and the newest orders are exactly the pages a default search window reads: after 50,000
-- creates and patches, the benchmark's search went from 630 to 430 requests a second (p99 27 to
-- 41 ms) until a VACUUM, which took under a second, brought it back. PostgreSQL's defaults
-- vacuum a table after a fifth of it changed (200,000 rows of a million); these tables are
-- vacuumed, and analysed, after 1% instead, whether the change was inserts or updates.
ALTER TABLE orders SET (
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_insert_scale_factor = 0.01,
    autovacuum_analyze_scale_factor = 0.01
);
ALTER TABLE order_tags SET (
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_insert_scale_factor = 0.01,
    autovacuum_analyze_scale_factor = 0.01
);
ALTER TABLE order_skus SET (
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_insert_scale_factor = 0.01,
    autovacuum_analyze_scale_factor = 0.01
);
