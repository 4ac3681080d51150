-- An order is never updated before it was created: the service sets pbUpdateDate to pbCreateDate
-- at creation and never moves it back. The search relies on that (store/sql.rs: a pbCreateDate
-- window's start bounds pbUpdateDate too), so the database refuses a row that breaks it rather
-- than let a search silently miss the row. SQLite cannot add a CHECK to an existing table
-- without copying it, so triggers hold the rule; dates are UTC text in one format, which
-- compares in time order.
CREATE TRIGGER orders_updated_after_created_insert BEFORE INSERT ON orders
WHEN NEW.pb_update_date < NEW.pb_create_date
BEGIN
    SELECT RAISE(ABORT, 'orders: pb_update_date before pb_create_date');
END;
CREATE TRIGGER orders_updated_after_created_update
BEFORE UPDATE OF pb_create_date, pb_update_date ON orders
WHEN NEW.pb_update_date < NEW.pb_create_date
BEGIN
    SELECT RAISE(ABORT, 'orders: pb_update_date before pb_create_date');
END;
