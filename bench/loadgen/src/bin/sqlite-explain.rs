//! The query plans and run times of captured search statements on a SQLite database, through the
//! same SQLite (libsqlite3-sys, via sqlx) that oms links, with the parameters bound as oms binds
//! them.
//!
//! ```text
//! sqlite-explain DB_FILE STATEMENTS_JSON
//! ```
//! `STATEMENTS_JSON` is `[{"name": …, "sql": …, "params": [string | integer | null, …]}, …]`.

use std::time::Instant;

use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqliteRow};
use sqlx::{ConnectOptions, Row};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: sqlite-explain DB_FILE STATEMENTS_JSON");
        std::process::exit(2);
    }
    let mut conn = SqliteConnectOptions::new()
        .filename(&args[1])
        .read_only(true)
        .connect()
        .await?;
    let version: String = sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(&mut conn)
        .await?;
    println!("SQLite {version}\n");
    let statements: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&args[2])?)?;
    for s in statements {
        let name = s["name"].as_str().unwrap_or("?");
        let sql = s["sql"].as_str().ok_or("statement without sql")?;
        let params = s["params"].as_array().cloned().unwrap_or_default();
        println!(
            "== {name}\n{sql}\nparameters: {}",
            Value::Array(params.clone())
        );
        let plan: Vec<SqliteRow> = bind(sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}")), &params)
            .fetch_all(&mut conn)
            .await?;
        for row in &plan {
            let id: i64 = row.get(0);
            let parent: i64 = row.get(1);
            let detail: String = row.get(3);
            println!("  [{id}<-{parent}] {detail}");
        }
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..5 {
            let t0 = Instant::now();
            rows = bind(sqlx::query(sql), &params)
                .fetch_all(&mut conn)
                .await?
                .len();
            times.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "  {rows} row(s); run time over 5 runs: min {:.2} ms, median {:.2} ms, max {:.2} ms\n",
            times[0], times[2], times[4]
        );
    }
    Ok(())
}

fn bind<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    params: &[Value],
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    for p in params {
        q = match p {
            Value::Null => q.bind(None::<String>),
            Value::Number(n) => q.bind(n.as_i64().unwrap_or_default()),
            Value::String(s) => q.bind(s.clone()),
            other => q.bind(other.to_string()),
        };
    }
    q
}
