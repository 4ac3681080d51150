//! Issue 17 item 10: many clients writing one order at once, without If-Match. Every write is
//! acknowledged (no 503 from running out of retries), none is lost, and the version counts
//! them exactly. On SQLite and PostgreSQL.

use crate::common::sendpro_fixtures::*;
use axum::http::StatusCode;
use serde_json::json;

const WRITERS: usize = 50;
const WRITES_EACH: usize = 6;

both!(
    fifty_blind_writers_on_one_order_all_land,
    |app| async move {
        let t = app.token("c1");
        let id = om_create(&app, &t, "HOT-1").await;
        let app = std::sync::Arc::new(app);
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let (app, t, id) = (app.clone(), t.clone(), id.clone());
            writers.push(tokio::spawn(async move {
                let mut statuses = Vec::new();
                for n in 0..WRITES_EACH {
                    let patch =
                        json!({"orderMessage": {"type": "GIFT", "message": format!("w{w}-{n}")}});
                    statuses.push(om_patch(&app, &t, &id, &patch).await.status);
                }
                statuses
            }));
        }
        let mut acknowledged = 0;
        for writer in writers {
            for status in writer.await.unwrap() {
                assert_eq!(status, StatusCode::OK);
                acknowledged += 1;
            }
        }
        assert_eq!(acknowledged, WRITERS * WRITES_EACH);
        let etag = om_etag(&app, &t, &id).await;
        assert_eq!(etag, format!("\"{}\"", 1 + acknowledged));
        let history = app.store.history("c1", &id).await.unwrap();
        assert_eq!(history.len(), 1 + acknowledged);
        let versions: Vec<i64> = history.iter().map(|e| e.version).collect();
        let mut sorted = versions.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), versions.len(), "one event per version");
    }
);
