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
