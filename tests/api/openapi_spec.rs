//! The committed spec is exactly what the code generates, and it is served.

use axum::http::StatusCode;

#[test]
fn committed_spec_matches_the_code() {
    let generated = oms::http::openapi::document_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "openapi/openapi.json is stale; regenerate it with:\n    cargo run -q -- openapi > openapi/openapi.json"
    );
}

#[test]
fn spec_covers_every_route_of_both_surfaces() {
    let doc: serde_json::Value =
        serde_json::from_str(&oms::http::openapi::document_json()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/shippingservices/fulfillment/v1/orders", vec!["post"]),
        (
            "/shippingservices/fulfillment/v1/orders/{orderId}",
            vec!["get", "put"],
        ),
        (
            "/shippingservices/fulfillment/v1/orders/search",
            vec!["post"],
        ),
        (
            "/shippingservices/fulfillment/v1/orders/status/search",
            vec!["post"],
        ),
        ("/ordermanagement/api/v1/orders", vec!["post"]),
        (
            "/ordermanagement/api/v1/orders/{orderId}",
            vec!["get", "patch", "delete"],
        ),
        ("/ordermanagement/api/v1/orders/bulk/status", vec!["patch"]),
        (
            "/ordermanagement/api/v1/orders/{orderId}/items",
            vec!["delete"],
        ),
        ("/ordermanagement/api/v1/orders/search", vec!["post"]),
        ("/ordermanagement/api/v1/orders/{orderId}/tags", vec!["put"]),
        ("/ordermanagement/api/v1/orders/bulkTags", vec!["put"]),
        (
            "/ordermanagement/api/v1/orders/{orderId}/history",
            vec!["get"],
        ),
        ("/healthz", vec!["get"]),
        ("/readyz", vec!["get"]),
        ("/metrics", vec!["get"]),
    ] {
        let item = paths.get(path).unwrap_or_else(|| panic!("{path} missing"));
        for m in methods {
            assert!(item.get(m).is_some(), "{m} {path} missing");
        }
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    let fulfillment_create = &paths["/shippingservices/fulfillment/v1/orders"]["post"];
    let headers: Vec<&str> = fulfillment_create["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(headers.contains(&"X-PB-TransactionId"));
    let limit = &doc["components"]["schemas"]["FulfillmentOrderRequest"]["properties"]["clientOrderId"]
        ["maxLength"];
    assert_eq!(limit, 50);
}

both!(spec_and_docs_are_served, |app| async move {
    let r = app.get("/openapi.json").send().await.expect(StatusCode::OK);
    assert_eq!(
        r.body,
        serde_json::from_str::<serde_json::Value>(&oms::http::openapi::document_json()).unwrap()
    );
    let response = tower::ServiceExt::oneshot(
        app.router.clone(),
        axum::http::Request::get("/docs/")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let docs = String::from_utf8_lossy(&bytes);
    assert!(docs.contains("swagger"), "Swagger UI page: {docs}");
});

// Swagger UI's "Try it out" sends the request-body examples as filled in; right after the
// README walk-through (its tenant 1234 and its order) each must succeed, and each search must
// find something. Bodies that name other orders by id (bulk status and tags) have no example.
both!(try_it_out_examples_work_as_filled_in, |app| async move {
    use crate::common::fixtures::seed_create;
    use crate::common::sendpro_fixtures::{om_create_body, sendpro_create};
    use axum::http::Method;

    let t = app.token("1234");
    let walk_through = app
        .post("/shippingservices/fulfillment/v1/orders")
        .bearer(&t)
        .txid("readme-create-1")
        .json(&seed_create("1234"))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let f_id = walk_through.body["orderId"].as_str().unwrap().to_string();
    let om_id = om_create_body(&app, &t, &sendpro_create("ORD123456")).await;

    let doc: serde_json::Value =
        serde_json::from_str(&oms::http::openapi::document_json()).unwrap();
    let mut tried = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let Some(example) = op["requestBody"]["content"]["application/json"].get("example")
            else {
                // Token requests are forms with Basic credentials, not JSON with a bearer.
                let json_body = op["requestBody"]["content"]
                    .get("application/json")
                    .is_some();
                // Webhook bodies name the caller's own endpoints and receivers, which Swagger
                // UI cannot know; tests/api/webhooks*.rs send them.
                assert!(
                    !json_body || path.contains("bulk") || path.starts_with("/oms/v1/webhooks"),
                    "{method} {path} has a request body without an example"
                );
                continue;
            };
            // Each warehouse operation gets an order of its own, as after the walk-through
            // (the order shipped first for a return), so that one example does not undo the
            // next (cancel before ship).
            let id = if path.starts_with("/shippingservices") {
                f_id.clone()
            } else if path.starts_with("/oms/") {
                let mut order = seed_create("1234");
                order["clientOrderId"] = serde_json::json!(format!("try-{}", tried.len()));
                let fresh = app
                    .post("/shippingservices/fulfillment/v1/orders")
                    .bearer(&t)
                    .txid(&format!("try-create-{}", tried.len()))
                    .json(&order)
                    .send()
                    .await
                    .expect(StatusCode::CREATED);
                let fresh = fresh.body["orderId"].as_str().unwrap().to_string();
                if path.ends_with("/returns") {
                    app.post(&format!("/oms/v1/orders/{fresh}/shipments"))
                        .bearer(&t)
                        .json(&serde_json::json!({"carrier": "USPS", "trackingNumber": "T"}))
                        .send()
                        .await
                        .expect(StatusCode::CREATED);
                }
                fresh
            } else {
                om_id.clone()
            };
            let uri = path.replace("{orderId}", &id);
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = app
                .request(method.clone(), &uri)
                .bearer(&t)
                .txid(&format!("try-it-out-{}", tried.len()))
                .json(example)
                .send()
                .await;
            assert!(
                r.status.is_success(),
                "{method} {path}: {} {}",
                r.status,
                r.body
            );
            if path.ends_with("search") {
                let found = r.body.get("orders").or(r.body.get("content")).unwrap();
                assert!(
                    !found.as_array().unwrap().is_empty(),
                    "{path} found nothing"
                );
            }
            tried.push(format!("{method} {path}"));
        }
    }
    assert_eq!(tried.len(), 13, "{tried:?}");
});
