//! The Fulfillment Orders API end to end, on SQLite and PostgreSQL.

use crate::common::fixtures::*;
use axum::http::StatusCode;
use serde_json::json;

const ORDERS: &str = "/shippingservices/fulfillment/v1/orders";

both!(create_sample_returns_documented_shape, |app| async move {
    let t = app.token("1234");
    let r = app
        .post(ORDERS)
        .bearer(&t)
        .txid("tx-1")
        .json(&seed_create("1234"))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let b = &r.body;
    assert_eq!(b["status"], "RECEIVED");
    assert_eq!(b["isOnHold"], false);
    assert_eq!(b["references"], json!([]));
    assert_eq!(b["toAddress"]["postalCode"], "36830");
    assert_eq!(b["clientId"], "1234");
    assert_eq!(b["createDate"], "2022-02-07T01:20:00Z");
    assert_eq!(b["orderLines"][0]["unitPrice"], json!(10));
    assert_eq!(b["orderCharges"]["totalOrderAmount"], json!(160));
    let id = b["orderId"].as_str().unwrap();
    assert!(
        id.starts_with("ORA") && id.ends_with("US") && id.len() == 24,
        "{id}"
    );
    assert!(b["pbCreateDate"].as_str().unwrap().ends_with('Z'));
    assert_eq!(r.header("x-pb-transactionid"), Some("tx-1"));

    let path = format!("{ORDERS}/{id}?clientId=1234");
    let got = app
        .get(&path)
        .bearer(&t)
        .txid("tx-2")
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(got.body, r.body);
});

both!(
    replace_sample_changes_the_billing_address,
    |app| async move {
        let t = app.token("NGST");
        let created = app
            .post(ORDERS)
            .bearer(&t)
            .txid("tx-1")
            .json(&seed_create("NGST"))
            .send()
            .await
            .expect(StatusCode::CREATED);
        let id = created.body["orderId"].as_str().unwrap().to_string();
        let r = app
            .put(&format!("{ORDERS}/{id}"))
            .bearer(&t)
            .txid("tx-2")
            .json(&seed_replace("NGST"))
            .send()
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.body["orderId"], id.as_str());
        assert_eq!(r.body["billingAddress"]["cityTown"], "Boone");
        assert_eq!(r.body["clientOrderId"], "1643749029194");
        assert_eq!(r.body["shippingDetails"]["trackingNumber"], "9560533222");
        assert_eq!(r.body["status"], "RECEIVED");
        assert_eq!(r.body["pbCreateDate"], created.body["pbCreateDate"]);
        assert_eq!(r.body["orderLines"][0]["unitPrice"], json!(10.0));
        let got = app
            .get(&format!("{ORDERS}/{id}?clientId=NGST"))
            .bearer(&t)
            .txid("tx-3")
            .send()
            .await
            .expect(StatusCode::OK);
        assert_eq!(
            got.body["billingAddress"]["addressLines"],
            json!(["643 Greenway Rd"])
        );
    }
);

both!(search_samples_return_the_envelope, |app| async move {
    let t = app.token("NGST");
    app.create_numbered(&t, "NGST", "N", 3).await;
    let r = app
        .post(&format!("{ORDERS}/search"))
        .bearer(&t)
        .txid("s1")
        .json(&seed_search("NGST"))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body["totalElements"], 3);
    assert_eq!(r.body["totalPages"], 1);
    assert_eq!(r.body["first"], true);
    assert_eq!(r.body["last"], true);
    assert_eq!(r.body["page"], 1);
    assert_eq!(r.body["size"], 20);
    assert_eq!(r.body["sort"], json!(["createDate-asc"]));
    assert_eq!(r.body["orders"].as_array().unwrap().len(), 3);
    assert!(r.body["orders"][0]["orderLines"].is_array());

    let s = app
        .post(&format!("{ORDERS}/status/search"))
        .bearer(&t)
        .txid("s2")
        .json(&seed_status_search("NGST"))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(s.body["totalElements"], 0, "nothing is INPROGRESS yet");
    let received =
        json!({"clientId": "NGST", "searchFields": [{"name": "STATUS", "values": ["received"]}]});
    let s = app
        .post(&format!("{ORDERS}/status/search"))
        .bearer(&t)
        .txid("s3")
        .json(&received)
        .send()
        .await
        .expect(StatusCode::OK);
    let first = &s.body["orders"][0];
    let mut keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "brand",
            "clientId",
            "clientOrderId",
            "createDate",
            "customerOrderId",
            "isOnHold",
            "orderId",
            "pbCreateDate",
            "pbUpdateDate",
            "status"
        ]
        .into_iter()
        .filter(|k| *k != "brand")
        .collect::<Vec<_>>()
    );
});
