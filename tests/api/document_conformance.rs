//! Issue 18, "Against the documents": the server does what the two Pitney Bowes documents and
//! their samples say (pb-api-research.md, the seeds). On SQLite and PostgreSQL.

use crate::common::fixtures::{order_numbered, seed_create};
use crate::common::sendpro_fixtures::*;
use axum::http::StatusCode;
use serde_json::json;

const FULFILLMENT: &str = "/shippingservices/fulfillment/v1/orders";

both!(
    sendpro_key_conflict_names_the_idempotency_key_header,
    |app| async move {
        let t = app.token("c1");
        let post = |body: serde_json::Value| {
            app.post(&format!("{OM}/orders"))
                .bearer(&t)
                .header("idempotency-key", "key-0001")
                .json(&body)
                .send()
        };
        post(sendpro_create("IDEM-1")).await.expect(StatusCode::OK);
        let r = post(sendpro_create("IDEM-2"))
            .await
            .expect(StatusCode::CONFLICT);
        let message = r.body["message"].as_str().unwrap();
        assert!(message.contains("Idempotency-Key"), "{}", r.body);
        assert!(!message.contains("transaction id"), "{}", r.body);

        // The Fulfillment surface names its own header.
        let t = app.token("C1");
        let fpost = |id: &str| {
            app.post(FULFILLMENT)
                .bearer(&t)
                .txid("key-0001")
                .json(&order_numbered("C1", id))
                .send()
        };
        fpost("IDEM-A").await.expect(StatusCode::CREATED);
        let r = fpost("IDEM-B").await.expect(StatusCode::CONFLICT);
        assert!(
            r.body.to_string().contains("X-PB-TransactionId"),
            "{}",
            r.body
        );
    }
);

both!(unknown_query_parameters_are_ignored, |app| async move {
    let t = app.token("C1");
    let created = app
        .post(FULFILLMENT)
        .bearer(&t)
        .txid("q-1")
        .json(&order_numbered("C1", "QUERY-1"))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let id = created.body["orderId"].as_str().unwrap().to_string();
    app.get(&format!(
        "{FULFILLMENT}/{id}?clientId=C1&_=1712345678&utm_source=sdk"
    ))
    .bearer(&t)
    .txid("q-2")
    .send()
    .await
    .expect(StatusCode::OK);
    let found = app
        .post(&format!("{FULFILLMENT}/search?page=1&size=5&trace=abc"))
        .bearer(&t)
        .txid("q-3")
        .json(&json!({"clientId": "C1"}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(found.body["totalElements"], 1, "{}", found.body);
    // A defined parameter is still checked.
    app.post(&format!("{FULFILLMENT}/search?size=0&trace=abc"))
        .bearer(&t)
        .txid("q-4")
        .json(&json!({"clientId": "C1"}))
        .send()
        .await
        .expect(StatusCode::BAD_REQUEST);

    let t = app.token("c1");
    let om = app
        .post(&format!("{OM}/orders"))
        .bearer(&t)
        .json(&sendpro_create("QUERY-2"))
        .send()
        .await
        .expect(StatusCode::OK);
    let om_id = om.body["orderId"].as_str().unwrap().to_string();
    let sku = sample_item()["itemId"].as_str().unwrap().to_string();
    let r = app
        .delete(&format!("{OM}/orders/{om_id}/items?itemId={sku}&_=1"))
        .bearer(&t)
        .send()
        .await;
    assert!(r.status.is_success(), "{} {}", r.status, r.body);
});

both!(
    seed_samples_pass_alpha3_countries_and_charge_currency,
    |app| async move {
        let t = app.token("C1");
        // Seeds 002/004 send hSTariffCodeCountry "IND"; seed 003 sends an otherChargeDetails
        // entry without a currency and answers it with the order's currency.
        let mut body = seed_create("C1");
        body["orderLines"][0]["hSTariffCode"] = json!("HSCode");
        body["orderLines"][0]["hSTariffCodeCountry"] = json!("IND");
        body["orderLines"][0]["originCountryCode"] = json!("USA");
        let created = app
            .post(FULFILLMENT)
            .bearer(&t)
            .txid("c-1")
            .json(&body)
            .send()
            .await
            .expect(StatusCode::CREATED);
        let line = &created.body["orderLines"][0];
        assert_eq!(line["hSTariffCodeCountry"], "IND");
        assert_eq!(line["originCountryCode"], "USA");
        let other = &created.body["orderCharges"]["otherChargeDetails"][0];
        assert_eq!(other["currency"], "USD", "{}", created.body);
        let id = created.body["orderId"].as_str().unwrap();
        let read = app
            .get(&format!("{FULFILLMENT}/{id}?clientId=C1"))
            .bearer(&t)
            .txid("c-2")
            .send()
            .await
            .expect(StatusCode::OK);
        assert_eq!(
            read.body["orderCharges"]["otherChargeDetails"][0]["currency"],
            "USD"
        );

        // Still ISO codes: neither four letters nor digits.
        let mut bad = seed_create("C1");
        bad["clientOrderId"] = json!("BAD-COUNTRY");
        bad["orderLines"][0]["hSTariffCodeCountry"] = json!("INDI");
        bad["orderLines"][0]["originCountryCode"] = json!("U1");
        let r = app
            .post(FULFILLMENT)
            .bearer(&t)
            .txid("c-3")
            .json(&bad)
            .send()
            .await
            .expect(StatusCode::BAD_REQUEST);
        let fields = r.error_fields();
        assert!(
            fields.contains(&"orderLines[0].hSTariffCodeCountry".to_string()),
            "{fields:?}"
        );
        assert!(
            fields.contains(&"orderLines[0].originCountryCode".to_string()),
            "{fields:?}"
        );
    }
);

both!(
    a_400_names_unknown_fields_and_bad_dates_with_the_rest,
    |app| async move {
        let t = app.token("C1");
        let mut body = seed_create("C1");
        body["colour"] = json!("red");
        body["orderLines"][0]["flavour"] = json!("sweet");
        body["createDate"] = json!("yesterday");
        body["shipOnDate"] = json!("not a date");
        body.as_object_mut().unwrap().remove("clientOrderId");
        body["toAddress"]["cityTown"] = json!("x".repeat(500));
        let r = app
            .post(FULFILLMENT)
            .bearer(&t)
            .txid("v-1")
            .json(&body)
            .send()
            .await
            .expect(StatusCode::BAD_REQUEST);
        let fields = r.error_fields();
        for f in [
            "colour",
            "orderLines[0].flavour",
            "createDate",
            "shipOnDate",
            "clientOrderId",
            "toAddress.cityTown",
        ] {
            assert!(fields.contains(&f.to_string()), "{f} not in {fields:?}");
        }
        // A date that did not parse is not also "required".
        assert_eq!(fields.iter().filter(|f| *f == "createDate").count(), 1);

        let t = app.token("c1");
        let mut body = sendpro_create("MANY-1");
        body["colour"] = json!("red");
        body.as_object_mut().unwrap().remove("toAddress");
        let r = app
            .post(&format!("{OM}/orders"))
            .bearer(&t)
            .json(&body)
            .send()
            .await
            .expect(StatusCode::BAD_REQUEST);
        let fields = om_error_fields(&r);
        assert!(fields.contains(&"colour".to_string()), "{fields:?}");
        assert!(fields.contains(&"toAddress".to_string()), "{fields:?}");
    }
);

fn whole_seconds(v: &serde_json::Value) -> bool {
    let s = v.as_str().unwrap_or("");
    s.len() == 20
        && s.ends_with('Z')
        && chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%SZ").is_ok()
}

both!(server_timestamps_are_whole_seconds, |app| async move {
    let t = app.token("C1");
    let created = app
        .post(FULFILLMENT)
        .bearer(&t)
        .txid("s-1")
        .json(&order_numbered("C1", "SECONDS-1"))
        .send()
        .await
        .expect(StatusCode::CREATED);
    for f in ["pbCreateDate", "pbUpdateDate"] {
        assert!(whole_seconds(&created.body[f]), "{f}: {}", created.body[f]);
    }
    // A search up to the shown pbCreateDate finds the order: stored as shown.
    let shown = created.body["pbCreateDate"].as_str().unwrap().to_string();
    let found = app
        .post(&format!("{FULFILLMENT}/search"))
        .bearer(&t)
        .txid("s-2")
        .json(&json!({"clientId": "C1", "searchFields": [
            {"name": "pbCreateDate", "values": [shown.clone(), shown.clone()]}
        ]}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(found.body["totalElements"], 1, "{}", found.body);

    let t = app.token("c1");
    let r = app
        .post(&format!("{OM}/orders"))
        .bearer(&t)
        .json(&sendpro_create("SECONDS-2"))
        .send()
        .await
        .expect(StatusCode::OK);
    assert!(
        whole_seconds(&r.body["transactionCreateDate"]),
        "{}",
        r.body
    );
    let om_id = r.body["orderId"].as_str().unwrap().to_string();
    let patched = app
        .patch(&format!("{OM}/orders/{om_id}"))
        .bearer(&t)
        .json(&json!({"orderNumber": "SECONDS-3"}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert!(
        whole_seconds(&patched.body["transactionCreateDate"]),
        "{}",
        patched.body
    );
    let got = app
        .get(&format!("{OM}/orders/{om_id}"))
        .bearer(&t)
        .send()
        .await
        .expect(StatusCode::OK);
    let info = &got.body["orderInfo"];
    for f in ["orderCreateDate", "orderUpdateDate"] {
        assert!(whole_seconds(&info[f]), "{f}: {}", got.body);
    }
    assert!(info["orderUpdateDate"].as_str() >= info["orderCreateDate"].as_str());
    let history = app
        .get(&format!("{OM}/orders/{om_id}/history"))
        .bearer(&t)
        .send()
        .await
        .expect(StatusCode::OK);
    let events = history.body["events"].as_array().unwrap();
    assert!(events.len() >= 2, "{}", history.body);
    for e in events {
        assert!(whole_seconds(&e["time"]), "{}", history.body);
    }
});

#[test]
fn spec_says_postal_code_is_a_string_or_a_number() {
    let doc: serde_json::Value =
        serde_json::from_str(&oms::http::openapi::document_json()).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut seen = 0;
    for (name, schema) in schemas {
        let Some(postal) = schema["properties"].get("postalCode") else {
            continue;
        };
        seen += 1;
        let types: Vec<&str> = postal["oneOf"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}.postalCode: {postal}"))
            .iter()
            .filter_map(|s| s["type"].as_str())
            .collect();
        // A number is a whole one of at most ten digits (`36830`, as seed 003 sends it).
        assert!(
            types.contains(&"string") && types.contains(&"integer"),
            "{name}: {postal}"
        );
    }
    assert!(seen >= 2, "no postalCode in the spec");
}

#[test]
fn spec_declares_the_echoed_transaction_id_on_every_fulfillment_response() {
    let doc: serde_json::Value =
        serde_json::from_str(&oms::http::openapi::document_json()).unwrap();
    let mut seen = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/shippingservices/fulfillment/") {
            continue;
        }
        for (method, op) in ops.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                seen += 1;
                assert!(
                    response["headers"].get("X-PB-TransactionId").is_some(),
                    "{method} {path} {status}"
                );
            }
        }
    }
    assert!(seen > 20);
}

both!(
    fulfillment_errors_echo_the_transaction_id,
    |app| async move {
        let r = app
            .get(&format!(
                "{FULFILLMENT}/ORA0000000000000000001US?clientId=C1"
            ))
            .bearer(&app.token("C1"))
            .txid("echo-1")
            .send()
            .await
            .expect(StatusCode::NOT_FOUND);
        assert_eq!(r.header("x-pb-transactionid"), Some("echo-1"));
    }
);
