//! What operators rely on: health, readiness, metrics, request ids, compression, limits, history.

use std::sync::Arc;
use std::time::Duration;

use crate::common::fixtures::*;
use crate::common::{Backend, TestApp};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use oms::rate_limit::ClientRateLimit;
use oms::state::HttpSettings;
use serde_json::{Value, json};
use tower::ServiceExt;

const ORDERS: &str = "/shippingservices/fulfillment/v1/orders";
const OM: &str = "/ordermanagement/api/v1/orders";

/// The order's history events, oldest first.
async fn history(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let r = app
        .get(&format!("{OM}/{id}/history"))
        .bearer(token)
        .send()
        .await
        .expect(StatusCode::OK);
    r.body["events"].as_array().unwrap().clone()
}

both!(health_and_readiness_need_no_auth, |app| async move {
    app.get("/healthz").send().await.expect(StatusCode::OK);
    let r = app.get("/readyz").send().await.expect(StatusCode::OK);
    assert_eq!(r.body["status"], "ready");
});

both!(
    readiness_fails_when_the_database_is_gone,
    |app| async move {
        app.store.close().await;
        let r = app.get("/readyz").send().await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.header("retry-after"), Some("1"));
    }
);

both!(
    metrics_count_requests_by_route_and_status,
    |app| async move {
        let t = app.token("m1");
        app.post(ORDERS)
            .bearer(&t)
            .txid("m-1")
            .json(&seed_create("m1"))
            .send()
            .await
            .expect(StatusCode::CREATED);
        app.post(ORDERS)
            .bearer(&t)
            .txid("m-1")
            .json(&seed_create("m1"))
            .send()
            .await
            .expect(StatusCode::CREATED);
        let response = app
            .router
            .clone()
            .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let bytes = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(
        text.contains(r#"oms_http_requests_total{method="POST",route="/shippingservices/fulfillment/v1/orders",status="201"}"#),
        "{text}"
    );
        assert!(
            text.contains("oms_http_request_duration_seconds_bucket"),
            "{text}"
        );
        assert!(text.contains("oms_orders_created_total"), "{text}");
        assert!(text.contains("oms_idempotent_replays_total"), "{text}");
        assert!(text.contains("oms_db_pool_size"), "{text}");
        assert!(text.contains("oms_db_pool_idle"), "{text}");
        // Pool waits: the queue for a connection, and how long each checkout took.
        assert!(text.contains("oms_db_pool_waiters{pool="), "{text}");
        let checkouts: f64 = text
            .lines()
            .filter(|l| l.starts_with("oms_db_pool_acquire_seconds_count{pool="))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
            .sum();
        assert!(
            checkouts >= 2.0,
            "two creates checked out connections: {text}"
        );
    }
);

both!(request_ids_are_generated_or_echoed, |app| async move {
    let r = app.get("/healthz").send().await;
    let generated = r
        .header("x-request-id")
        .expect("generated request id")
        .to_string();
    let uuid = uuid::Uuid::parse_str(&generated).expect("a UUID");
    assert_eq!(uuid.get_version_num(), 4, "a random UUID: {generated}");
    let again = app.get("/healthz").send().await;
    assert_ne!(again.header("x-request-id"), Some(generated.as_str()));
    let r = app
        .get("/healthz")
        .header("x-request-id", "abc-123")
        .send()
        .await;
    assert_eq!(r.header("x-request-id"), Some("abc-123"));
});

both!(
    large_responses_are_compressed_on_request,
    |app| async move {
        let t = app.token("z1");
        let first = app.create_numbered(&t, "z1", "Z", 12).await.remove(0);
        let gzip = |req: axum::http::request::Builder| {
            req.header("authorization", format!("Bearer {t}"))
                .header("x-pb-transactionid", "zs")
                .header("accept-encoding", "gzip")
        };
        let search = gzip(Request::post(format!("{ORDERS}/search")))
            .header("content-type", "application/json")
            .body(Body::from(json!({"clientId": "z1"}).to_string()))
            .unwrap();
        let response = app.router.clone().oneshot(search).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers().get("content-encoding").unwrap(), "gzip");

        // One order fits in TCP's first flight either way: not worth a compression pass.
        let one = gzip(Request::get(format!("{ORDERS}/{first}?clientId=z1")))
            .body(Body::empty())
            .unwrap();
        let response = app.router.clone().oneshot(one).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().get("content-encoding").is_none());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert!(
            body.len() > 1024 && body.len() <= usize::from(oms::http::COMPRESS_ABOVE),
            "an order between the old and the new threshold: {} bytes",
            body.len()
        );
    }
);

both!(history_records_every_change_in_order, |app| async move {
    let t = app.token("h1");
    let created = app
        .post(ORDERS)
        .bearer(&t)
        .txid("h-create")
        .json(&seed_create("h1"))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let id = created.body["orderId"].as_str().unwrap().to_string();
    app.patch(&format!("{OM}/{id}"))
        .bearer(&t)
        .txid("h-patch")
        .json(&json!({"orderMessage": {"type": "GIFT", "message": "hi"}}))
        .send()
        .await
        .expect(StatusCode::OK);
    app.put(&format!("{OM}/{id}/tags"))
        .bearer(&t)
        .json(&json!({"tagIds": ["a"]}))
        .send()
        .await
        .expect(StatusCode::OK);
    app.patch(&format!("{OM}/bulk/status"))
        .bearer(&t)
        .json(&json!({"orders": [{"orderId": id}], "status": "ONHOLD"}))
        .send()
        .await
        .expect(StatusCode::OK);
    let events = history(&app, &t, &id).await;
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["created", "updated", "tags_changed", "status_changed"]
    );
    let versions: Vec<i64> = events
        .iter()
        .map(|e| e["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2, 3, 4]);
    assert!(events.iter().all(|e| e["actor"] == "h1"));
    assert_eq!(events[0]["transactionId"], "h-create");
    assert_eq!(events[1]["transactionId"], "h-patch");
    assert_eq!(events[1]["changedFields"], json!(["orderMessage"]));
    assert_eq!(events[2]["changedFields"], json!(["tags"]));
    assert_eq!(events[3]["changedFields"], json!(["status"]));

    // Another tenant sees nothing.
    let other = app.token("h2");
    app.get(&format!("{OM}/{id}/history"))
        .bearer(&other)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);
});

// `isGift: false` and no isGift are the same order (the view shows false for both), so a replace
// that only spells it out changes nothing, and one that makes it a gift changes exactly that.
both!(
    history_names_is_gift_only_when_it_changes,
    |app| async move {
        let t = app.token("NGST");
        let mut without = seed_replace("NGST");
        without.as_object_mut().unwrap().remove("isGift");
        let created = app
            .post(ORDERS)
            .bearer(&t)
            .txid("g1")
            .json(&without)
            .send()
            .await
            .expect(StatusCode::CREATED);
        let id = created.body["orderId"].as_str().unwrap().to_string();
        assert_eq!(created.body["isGift"], false);
        let put = |body: Value, tx: &'static str| {
            let app = &app;
            let t = &t;
            let id = &id;
            async move {
                app.put(&format!("{ORDERS}/{id}"))
                    .bearer(t)
                    .txid(tx)
                    .json(&body)
                    .send()
                    .await
                    .expect(StatusCode::OK)
            }
        };
        put(seed_replace("NGST"), "g2").await;
        let mut gift = seed_replace("NGST");
        gift["isGift"] = json!(true);
        let r = put(gift, "g3").await;
        assert_eq!(r.body["isGift"], true);
        let events = history(&app, &t, &id).await;
        let changed: Vec<&Value> = events.iter().map(|e| &e["changedFields"]).collect();
        // The first replace left the order as it was: no new version, no event.
        assert_eq!(changed, [&json!([]), &json!(["isGift"])]);
    }
);

both!(
    concurrent_patches_leave_one_event_per_version,
    |app| async move {
        let t = app.token("h3");
        let created = app
            .post(ORDERS)
            .bearer(&t)
            .txid("h3")
            .json(&seed_create("h3"))
            .send()
            .await
            .expect(StatusCode::CREATED);
        let id = created.body["orderId"].as_str().unwrap().to_string();
        let mut tasks = Vec::new();
        for i in 0..10 {
            let (app, t, id) = (app.clone(), t.clone(), id.clone());
            tasks.push(tokio::spawn(async move {
                let body = json!({"orderMessage": {"message": format!("m{i}")}});
                app.patch(&format!("{OM}/{id}"))
                    .bearer(&t)
                    .json(&body)
                    .send()
                    .await
                    .expect(StatusCode::OK);
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let events = history(&app, &t, &id).await;
        let versions: Vec<i64> = events
            .iter()
            .map(|e| e["version"].as_i64().unwrap())
            .collect();
        assert_eq!(versions, (1..=11).collect::<Vec<_>>());
    }
);

/// A request whose body never finishes holds its slot; what comes next finds the server full.
#[tokio::test]
async fn saturated_server_answers_503_at_once() {
    let settings = HttpSettings {
        max_concurrency: 1,
        ..HttpSettings::default()
    };
    let app = Arc::new(TestApp::with_settings(Backend::Sqlite, settings).await);
    let t = app.token("c1");
    let (_tx, rx) = tokio::sync::mpsc::channel::<Result<axum::body::Bytes, std::io::Error>>(1);
    let stuck = Request::post(ORDERS)
        .header("authorization", format!("Bearer {t}"))
        .header("x-pb-transactionid", "stuck")
        .header("content-type", "application/json")
        .body(Body::from_stream(tokio_stream_from(rx)))
        .unwrap();
    let router = app.router.clone();
    let holder = tokio::spawn(async move { router.oneshot(stuck).await });
    tokio::task::yield_now().await;
    let mut saw_503 = false;
    for _ in 0..100 {
        let r = app.get("/healthz").send().await;
        if r.status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(r.header("retry-after"), Some("1"));
            assert_eq!(r.body["errors"][0]["errorCode"], "service_unavailable");
            saw_503 = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(
        saw_503,
        "a second request must be shed while the first holds the only slot"
    );
    holder.abort();
}

#[tokio::test]
async fn slow_requests_time_out_with_the_configured_status() {
    let settings = HttpSettings {
        request_timeout: Duration::from_millis(200),
        ..HttpSettings::default()
    };
    let app = TestApp::with_settings(Backend::Sqlite, settings).await;
    let t = app.token("c1");
    let (_tx, rx) = tokio::sync::mpsc::channel::<Result<axum::body::Bytes, std::io::Error>>(1);
    let r = app
        .post(ORDERS)
        .bearer(&t)
        .txid("slow")
        .header("content-type", "application/json")
        .body(Body::from_stream(tokio_stream_from(rx)))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(r.body["errors"][0]["errorCode"], "request_timeout");
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after_per_client() {
    let settings = HttpSettings {
        rate_limiter: ClientRateLimit::new(0.5, 2).map(Arc::new),
        ..HttpSettings::default()
    };
    let app = TestApp::with_settings(Backend::Sqlite, settings).await;
    let (a, b) = (app.token("r1"), app.token("r2"));
    let path = format!("{OM}/PBnothing000");
    for _ in 0..2 {
        app.get(&path)
            .bearer(&a)
            .send()
            .await
            .expect(StatusCode::NOT_FOUND);
    }
    let limited = app.get(&path).bearer(&a).send().await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.header("retry-after").is_some());
    assert_eq!(limited.body["errorCode"], "rate_limited");
    app.get(&path)
        .bearer(&b)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);
}

/// The limit applies where the token is verified, so every spelling of the scheme that
/// authenticates is limited too: `bearer` in lower case used to pass around it.
async fn lower_case_bearer_is_rate_limited(backend: Backend) {
    let settings = HttpSettings {
        rate_limiter: ClientRateLimit::new(1.0, 3).map(Arc::new),
        ..HttpSettings::default()
    };
    let app = TestApp::with_settings(backend, settings).await;
    let token = app.token("rl1");
    let path = format!("{OM}/PBnothing000");
    let mut limited = 0;
    let mut served = 0;
    for _ in 0..20 {
        let r = app
            .get(&path)
            .header("authorization", format!("bearer {token}"))
            .send()
            .await;
        match r.status {
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(r.header("retry-after").is_some());
                limited += 1;
            }
            StatusCode::NOT_FOUND => served += 1,
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert_eq!((served, limited), (3, 17));
    app.finish().await;
}

#[tokio::test]
async fn lower_case_bearer_is_rate_limited_sqlite() {
    lower_case_bearer_is_rate_limited(Backend::Sqlite).await;
}

#[tokio::test]
async fn lower_case_bearer_is_rate_limited_postgres() {
    lower_case_bearer_is_rate_limited(Backend::Postgres).await;
}

#[tokio::test]
async fn cors_is_off_by_default_and_follows_configuration() {
    let app = TestApp::new(Backend::Sqlite).await;
    let r = app
        .get("/healthz")
        .header("origin", "https://shop.example")
        .send()
        .await;
    assert!(r.header("access-control-allow-origin").is_none());
    let settings = HttpSettings {
        cors_origins: vec!["https://shop.example".into()],
        ..HttpSettings::default()
    };
    let app = TestApp::with_settings(Backend::Sqlite, settings).await;
    let r = app
        .get("/healthz")
        .header("origin", "https://shop.example")
        .send()
        .await;
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://shop.example")
    );
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<axum::body::Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<axum::body::Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
