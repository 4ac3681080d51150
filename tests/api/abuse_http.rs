//! Issue 17, HTTP-level attacks: what a client without a token can make the server keep.

use axum::http::Method;

// Item 6: 3,000 invented methods added 51,000 metric series (24 MB) without a token. Labels now
// come from closed sets: invented methods are `OTHER`, unmatched paths are `unmatched`.
both!(
    invented_methods_and_paths_add_no_metric_series,
    |app| async move {
        for i in 0..200 {
            let method = Method::from_bytes(format!("XM{i:04}").as_bytes()).unwrap();
            let r = app
                .request(method, &format!("/invented/{i}/path"))
                .send()
                .await;
            assert!(r.status.is_client_error(), "{}", r.status);
            app.request(Method::GET, &format!("/nothing-{i}"))
                .send()
                .await;
        }
        let metrics = app.get("/metrics").send_text().await;
        let series: Vec<&str> = metrics
            .lines()
            .filter(|l| l.starts_with("oms_http_requests_total{"))
            .collect();
        for line in &series {
            assert!(
                !line.contains("XM0") && !line.contains("invented") && !line.contains("nothing-"),
                "{line}"
            );
        }
        assert!(
            series
                .iter()
                .any(|l| l.contains(r#"method="OTHER""#) && l.contains(r#"route="unmatched""#)),
            "{series:?}"
        );
    }
);

// Item 8: strict JSON and clean messages, on both surfaces.
both!(
    duplicate_keys_are_refused_on_both_surfaces,
    |app| async move {
        use crate::common::fixtures::seed_create;
        use crate::common::sendpro_fixtures::{OM, sendpro_create};
        use axum::http::StatusCode;

        let t = app.token("A");
        // The body names clientId twice; the last would have acted for another tenant's id.
        let body = seed_create("A").to_string();
        let twice = body.replacen('{', r#"{"clientId": "B", "#, 1);
        let r = app
            .post("/shippingservices/fulfillment/v1/orders")
            .bearer(&t)
            .txid("dup-1")
            .header("content-type", "application/json")
            .body(twice)
            .send()
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert!(
            r.body.to_string().contains("duplicate key 'clientId'"),
            "{}",
            r.body
        );

        let body = sendpro_create("DUP-1").to_string();
        let twice = body.replacen('{', r#"{"orderNumber": "DUP-2", "#, 1);
        let r = app
            .post(&format!("{OM}/orders"))
            .bearer(&t)
            .header("content-type", "application/json")
            .body(twice)
            .send()
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert!(
            r.body.to_string().contains("duplicate key 'orderNumber'"),
            "{}",
            r.body
        );
    }
);

both!(
    rejected_values_are_quoted_in_part_and_in_json_terms,
    |app| async move {
        use crate::common::fixtures::seed_create;
        use axum::http::StatusCode;

        let t = app.token("A");
        let mut body = seed_create("A");
        body["isGift"] = serde_json::json!("y".repeat(1 << 20));
        body["orderLines"][0]["orderedQuantity"] = serde_json::json!({"n": 1});
        let r = app
            .post("/shippingservices/fulfillment/v1/orders")
            .bearer(&t)
            .txid("echo-1")
            .json(&body)
            .send()
            .await
            .expect(StatusCode::BAD_REQUEST);
        let text = r.body.to_string();
        assert!(
            text.len() < 2048,
            "a 1 MiB value came back: {} bytes",
            text.len()
        );
        for internal in ["$serde_json", "struct ", "u64", "i64"] {
            assert!(!text.contains(internal), "{internal} in {text}");
        }
    }
);

// Item 8: an object given as an array was read positionally (an address named "John").
both!(an_object_given_as_an_array_is_400, |app| async move {
    use crate::common::fixtures::seed_create;
    use axum::http::StatusCode;

    let t = app.token("A");
    let mut body = seed_create("A");
    body["toAddress"] = serde_json::json!([
        "John",
        null,
        null,
        ["1 Main St"],
        "Town",
        "AL",
        "36830",
        "US"
    ]);
    let r = app
        .post("/shippingservices/fulfillment/v1/orders")
        .bearer(&t)
        .txid("arr-1")
        .json(&body)
        .send()
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.error_fields(), ["toAddress"]);
    assert!(
        r.body.to_string().contains("expected an object"),
        "{}",
        r.body
    );
});

// Item 9: a URI too long and headers too large are answered in the error shape.
both!(
    over_long_uris_and_headers_answer_in_the_error_shape,
    |app| async move {
        use axum::http::StatusCode;

        let t = app.token("A");
        let long = format!(
            "/shippingservices/fulfillment/v1/orders/ORX?clientId={}",
            "a".repeat(9000)
        );
        let r = app
            .get(&long)
            .bearer(&t)
            .txid("uri-1")
            .send()
            .await
            .expect(StatusCode::URI_TOO_LONG);
        assert_eq!(r.body["errors"][0]["errorCode"], "uri_too_long");

        let r = app
            .get("/ordermanagement/api/v1/orders/PBx")
            .bearer(&t)
            .header("x-padding", "p".repeat(20_000))
            .send()
            .await
            .expect(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        assert_eq!(r.body["errorCode"], "headers_too_large");
    }
);
