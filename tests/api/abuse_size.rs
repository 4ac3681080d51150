//! Issue 17 item 4: free-form fields and whole orders are bounded (4 KiB per free-form value,
//! 512 KiB per stored order), in both dialects, and a refused order leaves nothing behind; a
//! search page is bounded too (12 MiB of orders), while a default page of the largest orders
//! still works. On SQLite and PostgreSQL.

use crate::common::fixtures::*;
use crate::common::sendpro_fixtures::*;
use crate::common::{Backend, Resp, TestApp};
use axum::http::StatusCode;
use serde_json::{Value, json};

const ORDERS: &str = "/shippingservices/fulfillment/v1/orders";
const CLIENT: &str = "c1";

async fn f_create(app: &TestApp, tx: &str, body: &Value) -> Resp {
    let t = app.token(CLIENT);
    app.post(ORDERS).bearer(&t).txid(tx).json(body).send().await
}

fn lines(n: usize, extra: Value) -> Value {
    (0..n)
        .map(|i| {
            let mut l = json!({"lineId": i + 1, "sku": format!("SKU-{i:04}"), "orderedQuantity": 1, "unitPrice": 1, "inventoryType": "NEW"});
            if let (Some(l), Some(extra)) = (l.as_object_mut(), extra.as_object()) {
                l.extend(extra.clone());
            }
            l
        })
        .collect()
}

async fn stored_orders(app: &TestApp) -> u64 {
    let t = app.token(CLIENT);
    let r = app
        .post(&format!("{ORDERS}/search"))
        .bearer(&t)
        .txid("tx-count")
        .json(&json!({"clientId": CLIENT}))
        .send()
        .await
        .expect(StatusCode::OK);
    r.body["totalElements"].as_u64().unwrap()
}

both!(free_form_fields_are_bounded, |app| async move {
    let mut body = seed_create(CLIENT);
    body["salesChannel"] = json!({"name": "x".repeat(1 << 20)});
    let r = f_create(&app, "tx-big-1", &body)
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.error_fields(), ["salesChannel"]);
    assert!(
        r.body.to_string().len() < 4096,
        "the value is not echoed back"
    );

    let mut body = seed_create(CLIENT);
    body["orderLines"][0]["additionalDetails"] = json!({"note": "y".repeat(5000)});
    let r = f_create(&app, "tx-big-2", &body)
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.error_fields(), ["orderLines[0].additionalDetails"]);

    let t = app.token(CLIENT);
    let mut body = sendpro_create("BIG-SP");
    body["customerInfo"]["notes"] = json!("z".repeat(5000));
    let r = app
        .post(&format!("{OM}/orders"))
        .bearer(&t)
        .json(&body)
        .send()
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.body["additionalInfo"], "customerInfo");
    assert_eq!(stored_orders(&app).await, 0);
});

both!(
    whole_orders_are_bounded_but_not_below_the_line_limit,
    |app| async move {
        // 1,000 plain lines: the line limit, not the size, is what bites.
        let mut body = seed_create(CLIENT);
        body["orderLines"] = lines(1000, json!({}));
        body.as_object_mut().unwrap().remove("orderCharges");
        f_create(&app, "tx-lines", &body)
            .await
            .expect(StatusCode::CREATED);

        // 1,000 lines each with a modest free-form value: every part allowed, the whole too large.
        let mut body = order_numbered(CLIENT, "BIG-2");
        body["orderLines"] = lines(
            1000,
            json!({"additionalDetails": {"note": "n".repeat(500)}}),
        );
        body.as_object_mut().unwrap().remove("orderCharges");
        let r = f_create(&app, "tx-fat", &body)
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert_eq!(r.error_fields(), ["order"]);
        assert_eq!(stored_orders(&app).await, 1);

        // A patch that would grow an order past the bound changes nothing.
        let t = app.token(CLIENT);
        let id = om_create(&app, &t, "GROW-1").await;
        // 1,000 items, each field within bounds: about 3.5 MB in all.
        let items: Vec<Value> = (0..1000)
            .map(|i| {
                json!({"itemId": format!("S{i}"), "quantity": 1, "unitPrice": 1,
                       "unitWeight": {"weight": 1, "unitOfMeasurement": "OZ", "note": "w".repeat(3000)}})
            })
            .collect();
        let r = om_patch(&app, &t, &id, &json!({"items": items}))
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert_eq!(r.body["additionalInfo"], "order");
        assert_eq!(om_etag(&app, &t, &id).await, "\"1\"");
    }
);

both!(
    a_search_page_is_bounded_in_bytes_but_a_default_page_always_fits,
    |app| async move {
        // 36 orders of about 412 KB each (100 lines with a 4,000-character note): 14.8 MB in
        // all, more than the 12 MiB a page may hold; 20 of them are 8.2 MB.
        for i in 0..36 {
            let mut body = order_numbered(CLIENT, &format!("LARGE-{i}"));
            body["orderLines"] = lines(
                100,
                json!({"additionalDetails": {"note": "n".repeat(4000)}}),
            );
            body.as_object_mut().unwrap().remove("orderCharges");
            f_create(&app, &format!("tx-large-{i}"), &body)
                .await
                .expect(StatusCode::CREATED);
        }
        let t = app.token(CLIENT);
        let search = |path: &'static str, size: Option<u32>| {
            let query = size.map_or(String::new(), |s| format!("?page=1&size={s}"));
            app.post(&format!("{ORDERS}/{path}{query}"))
                .bearer(&t)
                .txid("tx-page")
                .json(&json!({"clientId": CLIENT}))
                .send()
        };

        let page = search("search", None).await.expect(StatusCode::OK);
        assert_eq!(page.body["orders"].as_array().unwrap().len(), 20);
        assert_eq!(page.body["totalElements"], 36);
        // 28 of them, 11.5 MB, are within the bound.
        let r = search("search", Some(28)).await.expect(StatusCode::OK);
        assert_eq!(r.body["orders"].as_array().unwrap().len(), 28);

        for path in ["search", "status/search"] {
            let r = search(path, Some(36)).await.expect(StatusCode::BAD_REQUEST);
            assert_eq!(r.error_fields(), ["size"], "{path}");
            let text = r.body.to_string();
            assert!(
                text.contains("12 MiB") && text.contains("smaller size"),
                "{text}"
            );
        }

        let r = om_search(&app, &t, &json!({"page": 0, "size": 36}))
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert_eq!(r.body["additionalInfo"], "size");
        let r = om_search(&app, &t, &json!({"page": 1, "size": 20}))
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.body["orders"].as_array().unwrap().len(), 16);
    }
);

/// Issue 17 item 4: the real binary's peak resident memory (VmHWM) stays at most 200 MB while
/// 16 of the worst searches allowed run at once: pages just under the byte bound (29 orders of
/// about 412 KB, 11.9 MB), none of them refused. Figures in `bench/results/peak-rss.md`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn peak_memory_stays_bounded_under_the_worst_concurrent_searches_on_sqlite() {
    peak_memory_under_the_worst_searches(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn peak_memory_stays_bounded_under_the_worst_concurrent_searches_on_postgres() {
    peak_memory_under_the_worst_searches(Backend::Postgres).await;
}

async fn peak_memory_under_the_worst_searches(backend: Backend) {
    use crate::common::process::{http, proc};
    const SECRET: &str = "page-bytes-test-secret";
    // The orders are written through a store of the test's own, so that the server's memory
    // is that of the searches.
    let app = TestApp::new(backend).await;
    for i in 0..29 {
        let mut body = order_numbered(CLIENT, &format!("LARGE-{i}"));
        body["orderLines"] = lines(
            100,
            json!({"additionalDetails": {"note": "n".repeat(4000)}}),
        );
        body.as_object_mut().unwrap().remove("orderCharges");
        f_create(&app, &format!("tx-large-{i}"), &body)
            .await
            .expect(StatusCode::CREATED);
    }
    let server = proc::Server::start(&[
        ("DATABASE_URL", app.url.clone()),
        ("OMS_JWT_SECRET", SECRET.to_string()),
        // A debug build parses and writes these pages slowly, and the 16 searches queue for
        // the database's connections and the page budget; this is no test of speed.
        ("OMS_REQUEST_TIMEOUT", "300".to_string()),
        ("OMS_DB_ACQUIRE_TIMEOUT", "300".to_string()),
    ])
    .await;
    let (addr, pid) = (server.addr, server.pid());
    let token = oms::auth::AuthKeys::hs256(SECRET.as_bytes(), "oms", None)
        .issue(CLIENT, None, 3600)
        .unwrap();
    let auth = format!("Bearer {token}");
    let baseline = vm_kib(pid, "VmRSS");
    let search = json!({"clientId": CLIENT}).to_string();
    let searches: Vec<_> = (0..16)
        .map(|i| {
            let (auth, search) = (auth.clone(), search.clone());
            tokio::spawn(async move {
                let tx = format!("tx-page-{i}");
                let headers = [
                    ("Authorization", auth.as_str()),
                    ("X-PB-TransactionId", tx.as_str()),
                    ("Content-Type", "application/json"),
                ];
                let path = format!("{ORDERS}/search?page=1&size=29");
                http::send(addr, "POST", &path, &headers, Some(search.as_bytes()))
                    .await
                    .unwrap()
            })
        })
        .collect();
    for s in searches {
        let r = s.await.unwrap();
        assert_eq!(
            r.status,
            200,
            "{}",
            String::from_utf8_lossy(&r.body[..r.body.len().min(300)])
        );
        let page: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(page["orders"].as_array().unwrap().len(), 29);
    }
    let peak = vm_kib(pid, "VmHWM");
    eprintln!("{backend:?}: RSS before the searches {baseline} KiB, peak {peak} KiB");
    assert!(
        peak <= 200_000 * 1000 / 1024,
        "peak RSS {peak} KiB, over 200 MB"
    );
    drop(server);
    app.finish().await;
}

/// A field of /proc/<pid>/status in KiB.
fn vm_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}
