//! Round trips (issue 18 item 2): a client that reads an order and writes back exactly what it
//! read changes nothing, whichever surface created the order and whichever reads it. On SQLite
//! and PostgreSQL.

use crate::common::fixtures::*;
use crate::common::sendpro_fixtures::*;
use crate::common::{Resp, TestApp};
use axum::http::StatusCode;
use serde_json::{Value, json};

const FULFILLMENT: &str = "/shippingservices/fulfillment/v1/orders";
const CLIENT: &str = "c1";

async fn f_get(app: &TestApp, token: &str, id: &str) -> Resp {
    app.get(&format!("{FULFILLMENT}/{id}?clientId={CLIENT}"))
        .bearer(token)
        .txid("tx-read")
        .send()
        .await
        .expect(StatusCode::OK)
}

async fn f_put(app: &TestApp, token: &str, id: &str, body: &Value) -> Resp {
    app.put(&format!("{FULFILLMENT}/{id}"))
        .bearer(token)
        .txid("tx-put")
        .json(body)
        .send()
        .await
}

async fn f_create(app: &TestApp, token: &str) -> String {
    let r = app
        .post(FULFILLMENT)
        .bearer(token)
        .txid("tx-create")
        .json(&seed_create(CLIENT))
        .send()
        .await
        .expect(StatusCode::CREATED);
    r.body["orderId"].as_str().unwrap().to_string()
}

/// Both views of the order, for before/after comparisons.
async fn views(app: &TestApp, token: &str, id: &str) -> (Value, Value) {
    (
        f_get(app, token, id).await.body,
        om_get(app, token, id).await.body,
    )
}

async fn history_len(app: &TestApp, id: &str) -> usize {
    app.store.history(CLIENT, id).await.unwrap().len()
}

both!(
    fulfillment_put_of_what_it_read_changes_a_sendpro_order_in_nothing,
    |app| async move {
        let t = app.token(CLIENT);
        let id = om_create_body(&app, &t, &sendpro_create("SP-RT-1")).await;
        let before = views(&app, &t, &id).await;
        let events = history_len(&app, &id).await;

        let read = f_get(&app, &t, &id).await;
        // Shared line fields the view shows are fields the PUT takes back.
        assert!(read.body["orderLines"][0]["description"].is_string());
        let r = f_put(&app, &t, &id, &read.body)
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.header("etag"), Some("\"1\""), "{}", r.body);
        assert_eq!(r.body, before.0);
        assert_eq!(views(&app, &t, &id).await, before);
        assert_eq!(history_len(&app, &id).await, events);
    }
);

both!(
    fulfillment_put_of_what_it_read_changes_its_own_order_in_nothing,
    |app| async move {
        let t = app.token(CLIENT);
        let id = f_create(&app, &t).await;
        let before = views(&app, &t, &id).await;
        let r = f_put(&app, &t, &id, &before.0).await.expect(StatusCode::OK);
        assert_eq!(r.header("etag"), Some("\"1\""));
        assert_eq!(views(&app, &t, &id).await, before);
    }
);

both!(
    sendpro_patch_of_what_it_read_changes_its_own_order_in_nothing,
    |app| async move {
        let t = app.token(CLIENT);
        let id = om_create_body(&app, &t, &sendpro_create("SP-RT-2")).await;
        let before = views(&app, &t, &id).await;
        let events = history_len(&app, &id).await;
        let r = om_patch(&app, &t, &id, &before.1)
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.header("etag"), Some("\"1\""), "{}", r.body);
        assert_eq!(views(&app, &t, &id).await, before);
        assert_eq!(history_len(&app, &id).await, events);
    }
);

both!(
    sendpro_patch_of_what_it_read_changes_a_fulfillment_order_in_nothing,
    |app| async move {
        let t = app.token(CLIENT);
        let id = f_create(&app, &t).await;
        let before = views(&app, &t, &id).await;
        let r = om_patch(&app, &t, &id, &before.1)
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.header("etag"), Some("\"1\""), "{}", r.body);
        assert_eq!(views(&app, &t, &id).await, before);
    }
);

both!(
    a_read_body_with_one_edit_changes_only_that,
    |app| async move {
        let t = app.token(CLIENT);
        let id = om_create_body(&app, &t, &sendpro_create("SP-RT-3")).await;
        let (f_before, _) = views(&app, &t, &id).await;

        // SendPro360: the grouped GET body, one field edited.
        let mut read = om_get(&app, &t, &id).await.body;
        read["orderShippingInfo"]["toAddress"]["cityTown"] = json!("Springfield");
        let r = om_patch(&app, &t, &id, &read).await.expect(StatusCode::OK);
        assert_eq!(r.header("etag"), Some("\"2\""));
        let (f_after, om_after) = views(&app, &t, &id).await;
        assert_eq!(
            om_after["orderShippingInfo"]["toAddress"]["cityTown"],
            "Springfield"
        );
        assert_eq!(f_after["toAddress"]["cityTown"], "Springfield");
        assert_eq!(f_after["orderLines"], f_before["orderLines"]);

        // Fulfillment: the read body, one field edited; SendPro360-only item fields survive.
        let mut read = f_get(&app, &t, &id).await.body;
        read["brand"] = json!("Acme");
        f_put(&app, &t, &id, &read).await.expect(StatusCode::OK);
        let om_last = om_get(&app, &t, &id).await.body;
        assert_eq!(
            om_last["orderInfo"]["items"],
            om_after["orderInfo"]["items"]
        );
    }
);

both!(
    a_patch_naming_a_field_both_flat_and_grouped_is_refused,
    |app| async move {
        let t = app.token(CLIENT);
        let id = om_create_body(&app, &t, &sendpro_create("SP-RT-4")).await;
        let r = om_patch(
            &app,
            &t,
            &id,
            &json!({"orderNumber": "A", "orderInfo": {"orderNumber": "B"}}),
        )
        .await
        .expect(StatusCode::BAD_REQUEST);
        assert_names_field(&r, "orderInfo.orderNumber");
        let r = om_patch(&app, &t, &id, &json!({"orderInfo": {"bogus": 1}}))
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert_names_field(&r, "orderInfo.bogus");
        assert_eq!(om_etag(&app, &t, &id).await, "\"1\"");
    }
);

both!(
    a_replace_may_omit_only_what_the_stored_order_lacks,
    |app| async move {
        let t = app.token(CLIENT);
        // A Fulfillment order has createDate and a requested service: a replace needs them.
        let id = f_create(&app, &t).await;
        let mut read = f_get(&app, &t, &id).await.body;
        read.as_object_mut().unwrap().remove("createDate");
        read["inputShippingDetails"]
            .as_object_mut()
            .unwrap()
            .remove("serviceId");
        read["shippingDetails"] = read["inputShippingDetails"].clone();
        let r = f_put(&app, &t, &id, &read)
            .await
            .expect(StatusCode::BAD_REQUEST);
        let named: Vec<&str> = r.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["parameters"][0].as_str().unwrap())
            .collect();
        assert_eq!(named, ["createDate", "inputShippingDetails.serviceId"]);

        // A SendPro360 order has neither; once a replace gives them, they are required too.
        let id = om_create_body(&app, &t, &sendpro_create("SP-RT-5")).await;
        let mut read = f_get(&app, &t, &id).await.body;
        read["createDate"] = json!("2026-01-02T03:04:05Z");
        read["inputShippingDetails"] = json!({"carrier": "UPS", "serviceId": "2DA"});
        f_put(&app, &t, &id, &read).await.expect(StatusCode::OK);
        read.as_object_mut().unwrap().remove("createDate");
        f_put(&app, &t, &id, &read)
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert_eq!(
            f_get(&app, &t, &id).await.body["createDate"],
            "2026-01-02T03:04:05Z"
        );
    }
);
