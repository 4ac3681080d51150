//! What the PostgreSQL migrations ask of the server beyond tables and indexes.

use crate::common::{Backend, TestApp};
use sqlx::Connection;

/// Searches count with index-only scans, which stay index-only only while autovacuum keeps the
/// visibility map current; PostgreSQL's default waits for a fifth of the table to change.
#[tokio::test]
async fn the_searched_tables_are_vacuumed_after_one_percent_changed() {
    let app = TestApp::new(Backend::Postgres).await;
    let mut conn = sqlx::PgConnection::connect(&app.url).await.unwrap();
    for table in ["orders", "order_tags", "order_skus"] {
        let options: Vec<String> = sqlx::query_scalar(
            "SELECT unnest(reloptions) FROM pg_class WHERE relname = $1 ORDER BY 1",
        )
        .bind(table)
        .fetch_all(&mut conn)
        .await
        .unwrap();
        assert_eq!(
            options,
            [
                "autovacuum_analyze_scale_factor=0.01",
                "autovacuum_vacuum_insert_scale_factor=0.01",
                "autovacuum_vacuum_scale_factor=0.01",
            ],
            "{table}"
        );
    }
    conn.close().await.unwrap();
    app.finish().await;
}
