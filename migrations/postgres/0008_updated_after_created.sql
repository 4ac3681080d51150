-- An order is never updated before it was created: the service sets pbUpdateDate to pbCreateDate
-- at creation and never moves it back. The search relies on that (store/sql.rs: a pbCreateDate
-- window's start bounds pbUpdateDate too), so the database refuses a row that breaks it rather
-- than let a search silently miss the row.
ALTER TABLE orders ADD CONSTRAINT orders_updated_after_created
    CHECK (pb_update_date >= pb_create_date);
