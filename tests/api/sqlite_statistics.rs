//! SQLite plans by statistics only if someone gathers them; the store does at open
//! (`PRAGMA optimize`), and without them some searches read every matching row.

use crate::common::{Backend, TestApp};
use oms::store::{OrderStore, SqliteStore, StoreOptions};
use sqlx::Connection;

async fn has_order_statistics(url: &str) -> bool {
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    let stat_table: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1')",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let has = stat_table
        && sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM sqlite_stat1 WHERE tbl = 'orders')")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    conn.close().await.unwrap();
    has
}

#[tokio::test]
async fn a_database_with_orders_is_analyzed_at_open() {
    let app = TestApp::new(Backend::Sqlite).await;
    assert!(
        !has_order_statistics(&app.url).await,
        "nothing to analyze yet"
    );

    let t = app.token("s1");
    app.create_numbered(&t, "s1", "S", 3).await;
    let reopened = SqliteStore::connect(&app.url, &StoreOptions::default())
        .await
        .unwrap();
    assert!(has_order_statistics(&app.url).await);
    reopened.close().await;
    app.finish().await;
}
