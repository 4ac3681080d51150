//! Framework-level failures (bad JSON, media type, routes, methods, body size) in the Fulfillment
//! error shape, and the operational routes (api-notes "Headers and errors", "Paths"). On SQLite
//! and PostgreSQL.

use crate::common::fixtures::*;
use crate::common::{RequestBuilder, Resp, TestApp};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

const ORDERS: &str = "/shippingservices/fulfillment/v1/orders";
const CLIENT: &str = "C1";

/// A request with a valid token and transaction id; the tests give the body as raw bytes.
fn request<'a>(app: &'a TestApp, method: Method, path: &str) -> RequestBuilder<'a> {
    app.request(method, path)
        .bearer(&app.token(CLIENT))
        .txid("http-errors")
}

/// The PB Shipping API error object: `{"errors": [{errorCode, errorDescription, additionalInfo,
/// parameters}]}`, each entry complete.
#[track_caller]
fn assert_error_shape(r: &Resp) {
    let ct = r.header("content-type").unwrap_or("");
    assert!(ct.starts_with("application/json"), "content-type {ct:?}");
    let errors = r.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{}: not a Fulfillment error body: {}", r.status, r.body));
    assert!(!errors.is_empty(), "{}: empty errors", r.status);
    for e in errors {
        let obj = e
            .as_object()
            .unwrap_or_else(|| panic!("entry is not an object: {e}"));
        for key in [
            "errorCode",
            "errorDescription",
            "additionalInfo",
            "parameters",
        ] {
            assert!(
                obj.contains_key(key),
                "{}: entry lacks {key}: {e}",
                r.status
            );
        }
        assert!(
            e["errorCode"].as_str().is_some_and(|c| !c.is_empty()),
            "{}: errorCode {e}",
            r.status
        );
        assert!(
            e["errorDescription"]
                .as_str()
                .is_some_and(|c| !c.is_empty()),
            "{}: errorDescription {e}",
            r.status
        );
        assert!(
            e["additionalInfo"].is_string() || e["additionalInfo"].is_null(),
            "{}: additionalInfo {e}",
            r.status
        );
        assert!(e["parameters"].is_array(), "{}: parameters {e}", r.status);
    }
}

fn json_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

async fn stored_orders(app: &TestApp) -> u64 {
    let t = app.token(CLIENT);
    let r = app
        .post(&format!("{ORDERS}/search"))
        .bearer(&t)
        .txid("count")
        .json(&json!({"clientId": CLIENT}))
        .send()
        .await
        .expect(StatusCode::OK);
    r.body["totalElements"].as_u64().unwrap()
}

both!(malformed_json_is_400_invalid_json, |app| async move {
    let bodies: [&[u8]; 6] = [
        br#"{"clientId": "#,
        b"{'clientId': 'C1'}",
        b"not json",
        b"",
        b"   ",
        br#"{"clientId": "C1"} trailing"#,
    ];
    for body in bodies {
        for (method, path) in [
            (Method::POST, ORDERS.to_string()),
            (Method::POST, format!("{ORDERS}/search")),
        ] {
            let r = request(&app, method, &path)
                .header("content-type", "application/json")
                .body(body.to_vec())
                .send()
                .await;
            let shown = String::from_utf8_lossy(body);
            assert_eq!(
                r.status,
                StatusCode::BAD_REQUEST,
                "{path} {shown:?}: {}",
                r.body
            );
            assert_error_shape(&r);
            assert_eq!(r.error_code(), "invalid_json", "{path} {shown:?}");
        }
    }
    // JSON of the wrong shape is a validation error naming the place, not invalid_json.
    let r = request(&app, Method::POST, ORDERS)
        .header("content-type", "application/json")
        .body(b"[1, 2]".to_vec())
        .send()
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_error_shape(&r);
    assert_eq!(r.error_code(), "validation_error");
    assert_eq!(stored_orders(&app).await, 0);
    // `[]` could pass for a struct whose fields all have defaults: a search that matched all.
    for path in [
        format!("{ORDERS}/search"),
        "/ordermanagement/api/v1/orders/search".to_string(),
        "/ordermanagement/api/v1/orders".to_string(),
    ] {
        let r = request(&app, Method::POST, &path)
            .header("content-type", "application/json")
            .body(b"[]".to_vec())
            .send()
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.body);
        assert!(
            r.body.to_string().contains("must be a JSON object"),
            "{path}: {}",
            r.body
        );
    }
});

both!(json_content_types_only, |app| async move {
    let body = json_bytes(&seed_create(CLIENT));
    for ct in [
        "text/plain",
        "text/json",
        "application/xml",
        "multipart/form-data",
    ] {
        let r = request(&app, Method::POST, ORDERS)
            .header("content-type", ct)
            .body(body.clone())
            .send()
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{ct}: {}",
            r.body
        );
        assert_error_shape(&r);
        assert_eq!(r.error_code(), "unsupported_media_type", "{ct}");
    }
    assert_eq!(stored_orders(&app).await, 0);
    request(&app, Method::POST, ORDERS)
        .header("content-type", "application/json; charset=utf-8")
        .body(body)
        .send()
        .await
        .expect(StatusCode::CREATED);
});

// The seeds' samples are `curl -d '{...}'` with no Content-Type, which curl sends as
// form-urlencoded: that works as documented, but the body must still be JSON.
both!(documented_curl_samples_work_as_sent, |app| async move {
    let form = "application/x-www-form-urlencoded";
    request(&app, Method::POST, ORDERS)
        .header("content-type", form)
        .body(json_bytes(&seed_create(CLIENT)))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let r = request(&app, Method::POST, ORDERS)
        .header("content-type", form)
        .body(b"a=1&b=2".to_vec())
        .send()
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.error_code(), "invalid_json");
    assert_eq!(stored_orders(&app).await, 1);
});

both!(unknown_routes_are_404, |app| async move {
    for path in [
        "/nope",
        "/shippingservices/fulfillment/v1/nope",
        "/shippingservices/fulfillment/v2/orders",
        "/shippingservices/fulfillment/v1/orders/ORA0000000000000000001US/items",
    ] {
        let r = request(&app, Method::GET, path).send().await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.body);
        assert_error_shape(&r);
        assert_eq!(r.error_code(), "not_found", "{path}");
    }
    // An unknown order id is the same 404 shape.
    let t = app.token(CLIENT);
    let r = app
        .get(&format!(
            "{ORDERS}/ORA0000000000000000001US?clientId={CLIENT}"
        ))
        .bearer(&t)
        .txid("x")
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);
    assert_error_shape(&r);
    assert_eq!(r.error_code(), "not_found");
});

both!(wrong_methods_are_405, |app| async move {
    for (method, path) in [
        (Method::DELETE, ORDERS.to_string()),
        (Method::GET, ORDERS.to_string()),
        (Method::PUT, ORDERS.to_string()),
        (Method::PATCH, format!("{ORDERS}/ORA0000000000000000001US")),
        (Method::DELETE, format!("{ORDERS}/ORA0000000000000000001US")),
        (Method::GET, format!("{ORDERS}/search")),
        (Method::GET, format!("{ORDERS}/status/search")),
    ] {
        let r = request(&app, method.clone(), &path).send().await;
        assert_eq!(
            r.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {}",
            r.body
        );
        assert_error_shape(&r);
        assert_eq!(r.error_code(), "method_not_allowed", "{method} {path}");
    }
});

/// A valid create padded with whitespace to `len` bytes (whitespace is valid JSON).
fn padded_create(len: usize) -> Vec<u8> {
    let mut body = json_bytes(&seed_create(CLIENT));
    assert!(body.len() < len);
    body.resize(len, b' ');
    body
}

both!(bodies_over_ten_mebibytes_are_413, |app| async move {
    let len = 11 * 1024 * 1024;
    // Without Content-Length (streamed) and with it (as HTTP clients send a known-size body).
    for with_length in [false, true] {
        let mut req = request(&app, Method::POST, ORDERS)
            .header("content-type", "application/json")
            .body(padded_create(len));
        if with_length {
            req = req.header("content-length", len.to_string());
        }
        let r = req.send().await;
        assert_eq!(
            r.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "content-length {with_length}: {}",
            r.body
        );
        assert_error_shape(&r);
        assert_eq!(r.error_code(), "payload_too_large");
    }
    assert_eq!(stored_orders(&app).await, 0);
});

both!(bodies_up_to_ten_mebibytes_are_accepted, |app| async move {
    // Well above common framework defaults (2 MiB), still below the documented 10 MiB.
    let len = 5 * 1024 * 1024;
    let r = request(&app, Method::POST, ORDERS)
        .header("content-type", "application/json")
        .body(padded_create(len))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(stored_orders(&app).await, 1);
});

both!(healthz_needs_no_auth, |app| async move {
    let r = app.get("/healthz").send().await.expect(StatusCode::OK);
    assert_eq!(r.body["status"], "ok");
});

both!(every_error_has_the_documented_shape, |app| async move {
    let t = app.token(CLIENT);
    let created = app
        .post(ORDERS)
        .bearer(&t)
        .txid("first")
        .json(&seed_create(CLIENT))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let id = created.body["orderId"].as_str().unwrap().to_string();
    let mut too_long = seed_create(CLIENT);
    too_long["brand"] = json!("x".repeat(51));
    let read_only = app.token_with_scope(CLIENT, "orders:read");
    let mut responses: Vec<(&str, Resp)> = vec![
        (
            "validation",
            app.post(ORDERS)
                .bearer(&t)
                .txid("v")
                .json(&too_long)
                .send()
                .await,
        ),
        (
            "missing txid",
            app.post(ORDERS).bearer(&t).json(&too_long).send().await,
        ),
        (
            "401",
            app.post(ORDERS).txid("a").json(&too_long).send().await,
        ),
        (
            "403 scope",
            app.post(ORDERS)
                .bearer(&read_only)
                .txid("b")
                .json(&order_numbered(CLIENT, "RO"))
                .send()
                .await,
        ),
        (
            "403 tenant",
            app.post(ORDERS)
                .bearer(&t)
                .txid("c")
                .json(&seed_create("C2"))
                .send()
                .await,
        ),
        (
            "404",
            app.get(&format!(
                "{ORDERS}/ORA0000000000000000001US?clientId={CLIENT}"
            ))
            .bearer(&t)
            .txid("d")
            .send()
            .await,
        ),
        (
            "409 duplicate",
            app.post(ORDERS)
                .bearer(&t)
                .txid("e")
                .json(&seed_create(CLIENT))
                .send()
                .await,
        ),
        (
            "409 idempotency",
            app.post(ORDERS)
                .bearer(&t)
                .txid("first")
                .json(&order_numbered(CLIENT, "OTHER"))
                .send()
                .await,
        ),
        (
            "400 search",
            app.post(&format!("{ORDERS}/search?size=0"))
                .bearer(&t)
                .txid("f")
                .json(&json!({"clientId": CLIENT}))
                .send()
                .await,
        ),
        (
            "400 view query",
            app.get(&format!("{ORDERS}/{id}"))
                .bearer(&t)
                .txid("g")
                .send()
                .await,
        ),
    ];
    let raw = [
        (
            "invalid json",
            request(&app, Method::POST, ORDERS)
                .header("content-type", "application/json")
                .body(b"{".to_vec()),
        ),
        (
            "415",
            request(&app, Method::POST, ORDERS)
                .header("content-type", "text/plain")
                .body(b"{}".to_vec()),
        ),
        ("405", request(&app, Method::DELETE, ORDERS)),
        ("404 route", request(&app, Method::GET, "/nope")),
    ];
    for (case, req) in raw {
        responses.push((case, req.send().await));
    }
    for (case, r) in &responses {
        assert!(
            r.status.is_client_error(),
            "{case}: {} {}",
            r.status,
            r.body
        );
        assert_error_shape(r);
    }
    let statuses: Vec<(&str, u16)> = responses
        .iter()
        .map(|(c, r)| (*c, r.status.as_u16()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("validation", 400),
            ("missing txid", 400),
            ("401", 401),
            ("403 scope", 403),
            ("403 tenant", 403),
            ("404", 404),
            ("409 duplicate", 409),
            ("409 idempotency", 409),
            ("400 search", 400),
            ("400 view query", 400),
            ("invalid json", 400),
            ("415", 415),
            ("405", 405),
            ("404 route", 404),
        ]
    );
    // A field-level problem names its field; others have none to name.
    assert_eq!(responses[0].1.error_fields(), ["brand"]);
    assert_eq!(responses[5].1.error_fields(), Vec::<String>::new());
});

// Amounts so large that totals would overflow a decimal are refused up front (this once
// crashed the connection: found by schemathesis).
both!(
    huge_amounts_are_400_not_a_dropped_connection,
    |app| async move {
        let t = app.token(CLIENT);
        for (field, value) in [
            ("unitPrice", "1e25"),
            ("unitPrice", "10000000000000000000000"),
            ("lineTotal", "79000000000000000000000000000"),
        ] {
            let mut order = seed_create(CLIENT);
            order["orderLines"][0][field] = serde_json::from_str(value).unwrap();
            order["orderLines"][0]["orderedQuantity"] = serde_json::json!(1000000);
            let r = app
                .post(ORDERS)
                .bearer(&t)
                .txid("huge")
                .json(&order)
                .send()
                .await
                .expect(StatusCode::BAD_REQUEST);
            assert_eq!(
                r.error_fields(),
                [format!("orderLines[0].{field}")],
                "{value}: {}",
                r.body
            );
            assert!(!r.body.to_string().contains("u128"), "{}", r.body);
        }
        let mut whole = seed_create(CLIENT);
        whole["orderLines"][0]["orderedQuantity"] = serde_json::from_str("5.0").unwrap();
        app.post(ORDERS)
            .bearer(&t)
            .txid("whole")
            .json(&whole)
            .send()
            .await
            .expect(StatusCode::CREATED);
        assert_eq!(stored_orders(&app).await, 1);
    }
);
