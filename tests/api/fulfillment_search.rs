//! Fulfillment Find Orders (seed 002 and api-notes "Search"): paging, sorting, the six-month
//! default window, date ranges, the search names and how criteria combine. On SQLite and
//! PostgreSQL.

use crate::common::fixtures::*;
use crate::common::{Resp, TestApp};
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Months, SecondsFormat, Utc};
use oms::domain::date::IsoDate;
use oms::domain::history::{EventKind, HistoryEvent};
use oms::domain::{Order, Status};
use serde_json::{Value, json};

const ORDERS: &str = "/shippingservices/fulfillment/v1/orders";
const CLIENT: &str = "NGST";

async fn create(app: &TestApp, body: &Value) -> Value {
    let t = app.token(CLIENT);
    let tx = format!("c-{}", body["clientOrderId"].as_str().unwrap());
    app.post(ORDERS)
        .bearer(&t)
        .txid(&tx)
        .json(body)
        .send()
        .await
        .expect(StatusCode::CREATED)
        .body
}

/// Creates an order with the given client order id and client dates; returns its order id.
async fn create_dated(app: &TestApp, coid: &str, create_date: &str, update_date: &str) -> String {
    let mut body = order_numbered(CLIENT, coid);
    body["createDate"] = json!(create_date);
    body["updateDate"] = json!(update_date);
    create(app, &body).await["orderId"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn search_at(app: &TestApp, path_and_query: &str, body: &Value) -> Resp {
    let t = app.token(CLIENT);
    app.post(&format!("{ORDERS}/{path_and_query}"))
        .bearer(&t)
        .txid("search-1")
        .json(body)
        .send()
        .await
}

async fn search(app: &TestApp, fields: Value) -> Resp {
    let body = json!({"clientId": CLIENT, "searchFields": fields});
    search_at(app, "search?size=500", &body)
        .await
        .expect(StatusCode::OK)
}

/// The client order ids of a result, in the order returned.
fn coids(r: &Resp) -> Vec<String> {
    r.body["orders"]
        .as_array()
        .unwrap_or_else(|| panic!("no orders in {}", r.body))
        .iter()
        .map(|o| o["clientOrderId"].as_str().unwrap().to_string())
        .collect()
}

/// The client order ids of a result, sorted (for set comparisons).
fn coid_set(r: &Resp) -> Vec<String> {
    let mut v = coids(r);
    v.sort();
    v
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A stored order of `CLIENT` to copy from: created through the API, read back from the store.
async fn template(app: &TestApp) -> Order {
    let id = create(app, &order_numbered(CLIENT, "TEMPLATE")).await["orderId"]
        .as_str()
        .unwrap()
        .to_string();
    app.store.get(CLIENT, &id).await.unwrap().unwrap()
}

/// Inserts a copy of `base` straight into the store with its own ids, after `edit`.
async fn insert_copy(
    app: &TestApp,
    base: &Order,
    n: u64,
    coid: &str,
    edit: impl FnOnce(&mut Order),
) {
    let mut o = base.clone();
    o.order_id = format!("ORA{n:019}US");
    o.content.client_order_id = coid.to_string();
    edit(&mut o);
    let event = HistoryEvent::new(EventKind::Created, &o, CLIENT, None, Vec::new());
    app.store.insert(&o, None, &event).await.unwrap();
}

fn date(text: &str) -> Option<IsoDate> {
    Some(IsoDate::parse(text).unwrap())
}

both!(pages_follow_the_seed_envelope, |app| async move {
    for i in 1..=5 {
        create_dated(
            &app,
            &format!("P-{i}"),
            &format!("2023-03-0{i}T00:00:00Z"),
            "2023-04-01T00:00:00Z",
        )
        .await;
    }
    let body = json!({"clientId": CLIENT, "sort": ["createDate-asc"]});
    let page = |n: u32| {
        let app = app.clone();
        let body = body.clone();
        async move {
            search_at(&app, &format!("search?page={n}&size=2"), &body)
                .await
                .expect(StatusCode::OK)
        }
    };
    let expected = [
        (1, vec!["P-1", "P-2"], true, false),
        (2, vec!["P-3", "P-4"], false, false),
        (3, vec!["P-5"], false, true),
    ];
    for (n, ids, first, last) in expected {
        let r = page(n).await;
        assert_eq!(coids(&r), strs(&ids), "page {n}");
        assert_eq!(r.body["page"], n, "page {n}");
        assert_eq!(r.body["size"], 2, "page {n}");
        assert_eq!(r.body["totalElements"], 5, "page {n}");
        assert_eq!(r.body["totalPages"], 3, "page {n}");
        assert_eq!(r.body["first"], first, "page {n}");
        assert_eq!(r.body["last"], last, "page {n}");
        assert_eq!(r.body["sort"], json!(["createDate-asc"]));
    }

    let beyond = page(4).await;
    assert_eq!(beyond.body["orders"], json!([]));
    assert_eq!(beyond.body["page"], 4);
    assert_eq!(beyond.body["totalElements"], 5);
    assert_eq!(beyond.body["totalPages"], 3);
    assert_eq!(beyond.body["first"], false);
    assert_eq!(beyond.body["last"], true);

    let defaults = search_at(&app, "search", &body)
        .await
        .expect(StatusCode::OK);
    assert_eq!(defaults.body["page"], 1);
    assert_eq!(defaults.body["size"], 20);
    assert_eq!(defaults.body["totalPages"], 1);
    assert_eq!(defaults.body["first"], true);
    assert_eq!(defaults.body["last"], true);
    assert_eq!(coids(&defaults), strs(&["P-1", "P-2", "P-3", "P-4", "P-5"]));

    let largest = search_at(&app, "search?page=1&size=500", &body)
        .await
        .expect(StatusCode::OK);
    assert_eq!(largest.body["size"], 500);
    assert_eq!(largest.body["orders"].as_array().unwrap().len(), 5);

    let status = search_at(&app, "status/search?page=3&size=2", &body)
        .await
        .expect(StatusCode::OK);
    assert_eq!(coids(&status), strs(&["P-5"]));
    assert_eq!(status.body["totalPages"], 3);
    assert_eq!(status.body["last"], true);
});

both!(
    page_and_size_outside_their_range_are_400,
    |app| async move {
        let body = json!({"clientId": CLIENT});
        let cases = [
            ("size=501", vec!["size"]),
            ("size=0", vec!["size"]),
            ("size=-1", vec!["size"]),
            ("size=ten", vec!["size"]),
            ("size=1.5", vec!["size"]),
            ("page=0", vec!["page"]),
            ("page=-1", vec!["page"]),
            ("page=abc", vec!["page"]),
            ("page=0&size=501", vec!["page", "size"]),
        ];
        for route in ["search", "status/search"] {
            for (query, fields) in &cases {
                let r = search_at(&app, &format!("{route}?{query}"), &body).await;
                assert_eq!(
                    r.status,
                    StatusCode::BAD_REQUEST,
                    "{route}?{query}: {}",
                    r.body
                );
                let mut got = r.error_fields();
                got.sort();
                assert_eq!(got, strs(fields), "{route}?{query}");
            }
        }
    }
);

both!(each_sort_orders_the_results, |app| async move {
    let base = template(&app).await;
    let now = Utc::now();
    // Each property orders A, B, C, D differently, and no order is another's reverse.
    // createDate: A B C D, compared as instants (B's text sorts before A's, D's offset too).
    let rows = [
        ("A", "2023-01-01T10:00:00Z", 3, 2, 2),
        ("B", "2023-01-01T08:00:00-05:00", 1, 3, 4),
        ("C", "2023-01-02T00:00:00Z", 4, 1, 3),
        ("D", "2023-01-02T06:00:00+05:00", 2, 4, 1),
    ];
    for (i, (name, created, update_rank, pb_create_rank, pb_update_rank)) in
        rows.into_iter().enumerate()
    {
        insert_copy(&app, &base, 100 + i as u64, name, |o| {
            o.content.brand = Some("SORTED".into());
            o.content.create_date = date(created);
            o.content.update_date = date(&format!("2023-02-0{update_rank}T00:00:00Z"));
            o.pb_create_date = now - Duration::days(10 - pb_create_rank);
            o.pb_update_date = now - Duration::hours(5 - pb_update_rank);
        })
        .await;
    }
    let expected = [
        ("createDate-asc", "ABCD"),
        ("createDate-desc", "DCBA"),
        ("updateDate-asc", "BDAC"),
        ("updateDate-desc", "CADB"),
        ("pbCreateDate-asc", "CABD"),
        ("pbCreateDate-desc", "DBAC"),
        ("pbUpdateDate-asc", "DACB"),
        ("pbUpdateDate-desc", "BCAD"),
    ];
    for (sort, order) in expected {
        let body = json!({
            "clientId": CLIENT,
            "sort": [sort],
            "searchFields": [{"name": "brand", "values": ["SORTED"]}]
        });
        for route in ["search", "status/search"] {
            let r = search_at(&app, route, &body).await.expect(StatusCode::OK);
            let got: String = coids(&r).concat();
            assert_eq!(got, order, "{route} sorted by {sort}");
            assert_eq!(r.body["sort"], json!([sort]));
        }
    }
});

both!(unknown_sort_is_400, |app| async move {
    for sort in [
        "brand-asc",
        "createDate",
        "createDate-up",
        "orderId-desc",
        "",
    ] {
        let body = json!({"clientId": CLIENT, "sort": [sort]});
        let r = search_at(&app, "search", &body).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "sort {sort:?}: {}",
            r.body
        );
        let fields = r.error_fields();
        assert!(
            fields.len() == 1 && fields[0].starts_with("sort"),
            "sort {sort:?}: {fields:?}"
        );
    }
});

both!(
    without_a_date_filter_only_six_months_count,
    |app| async move {
        let base = template(&app).await;
        let now = Utc::now();
        let seven_months_ago = now.checked_sub_months(Months::new(7)).unwrap();
        let five_months_ago = now.checked_sub_months(Months::new(5)).unwrap();
        insert_copy(&app, &base, 1, "OLD", |o| {
            o.pb_create_date = seven_months_ago;
            o.pb_update_date = seven_months_ago;
        })
        .await;
        insert_copy(&app, &base, 2, "RECENT", |o| {
            o.pb_create_date = five_months_ago;
            o.pb_update_date = five_months_ago;
        })
        .await;

        let all = search(&app, json!([])).await;
        assert_eq!(coid_set(&all), strs(&["RECENT", "TEMPLATE"]));
        assert_eq!(all.body["totalElements"], 2);
        // A criterion that is not a date does not lift the window.
        let by_name = search(&app, json!([{"name": "orders", "values": ["OLD"]}])).await;
        assert_eq!(by_name.body["totalElements"], 0);

        let range = json!([{
            "name": "pbCreateDate",
            "values": [iso(now.checked_sub_months(Months::new(8)).unwrap()), iso(now + Duration::minutes(1))]
        }]);
        let r = search(&app, range).await;
        assert_eq!(coid_set(&r), strs(&["OLD", "RECENT", "TEMPLATE"]));
        let only_old = json!([{
            "name": "pbCreateDate",
            "values": [iso(seven_months_ago - Duration::days(1)), iso(seven_months_ago + Duration::days(1))]
        }]);
        assert_eq!(coids(&search(&app, only_old).await), strs(&["OLD"]));
        // Any date criterion replaces the default window, not only pbCreateDate.
        let by_create_date = json!([
            {"name": "createDate", "values": ["2000-01-01"]},
            {"name": "orders", "values": ["OLD"]}
        ]);
        assert_eq!(coids(&search(&app, by_create_date).await), strs(&["OLD"]));
        // The window is for searches only: the old order is still readable.
        let t = app.token(CLIENT);
        let old = format!("{ORDERS}/ORA{:019}US?clientId={CLIENT}", 1);
        app.get(&old)
            .bearer(&t)
            .txid("get-old")
            .send()
            .await
            .expect(StatusCode::OK);
    }
);

// With a status filter and few matches, PostgreSQL sorts the matches by client date instead of
// walking the date's index (store/sql.rs, `sort_matches`): the same order either way, absent
// dates last in both directions, ties by order id.
both!(
    status_filtered_client_date_sorts_keep_absent_dates_last,
    |app| async move {
        let base = template(&app).await;
        let rows = [
            (
                "A",
                Some("2023-01-01T10:00:00Z"),
                Some("2023-02-03T00:00:00Z"),
            ),
            ("B", None, Some("2023-02-01T00:00:00Z")),
            ("C", Some("2023-01-02T00:00:00Z"), None),
            (
                "D",
                Some("2023-01-01T08:00:00-05:00"),
                Some("2023-02-02T00:00:00Z"),
            ),
            ("E", Some("2023-01-02T00:00:00Z"), None),
        ];
        for (i, (name, created, updated)) in rows.into_iter().enumerate() {
            insert_copy(&app, &base, 500 + i as u64, name, |o| {
                o.content.brand = Some("STATUSSORT".into());
                o.content.create_date = created.and_then(date);
                o.content.update_date = updated.and_then(date);
            })
            .await;
        }
        insert_copy(&app, &base, 510, "SHIPPED", |o| {
            o.content.brand = Some("STATUSSORT".into());
            o.status = Status::Shipped;
        })
        .await;
        for (sort, want) in [
            ("createDate-asc", "ADCEB"),
            ("createDate-desc", "ECDAB"),
            ("updateDate-asc", "BDACE"),
            ("updateDate-desc", "ADBEC"),
        ] {
            let body = json!({
                "clientId": CLIENT,
                "sort": [sort],
                "searchFields": [
                    {"name": "status", "values": ["RECEIVED"]},
                    {"name": "brand", "values": ["STATUSSORT"]}
                ]
            });
            let r = search_at(&app, "search", &body)
                .await
                .expect(StatusCode::OK);
            assert_eq!(coids(&r).concat(), want, "{sort}");
            let second = search_at(&app, "search?size=2&page=2", &body)
                .await
                .expect(StatusCode::OK);
            assert_eq!(coids(&second).concat(), want[2..4], "{sort}, page 2");
        }
    }
);

// Pages sorted by pbUpdateDate carry the window's start as a bound on pbUpdateDate too
// (store/sql.rs); this pins what they must still return: an order created at the very start,
// orders updated long after the window began, deep pages, and none created before it.
both!(
    pb_update_sorts_within_a_pb_create_window,
    |app| async move {
        let base = template(&app).await;
        let now = Utc::now();
        let start = DateTime::from_timestamp(now.timestamp() - 30 * 86_400, 0).unwrap();
        let rows = [
            // name, created (days after start), updated (hours after start)
            ("EDGE", 0, 0),
            ("LATE", 1, 24 * 25),
            ("MID", 2, 24 * 3),
            ("FRESH", 3, 24 * 3 + 1),
        ];
        for (i, (name, created, updated)) in rows.into_iter().enumerate() {
            insert_copy(&app, &base, 200 + i as u64, name, |o| {
                o.content.brand = Some("WINDOW".into());
                o.pb_create_date = start + Duration::days(created);
                o.pb_update_date = start + Duration::hours(updated);
            })
            .await;
        }
        // Created before the window, updated inside it: outside the window all the same.
        insert_copy(&app, &base, 299, "BEFORE", |o| {
            o.content.brand = Some("WINDOW".into());
            o.pb_create_date = start - Duration::seconds(1);
            o.pb_update_date = start + Duration::hours(1);
        })
        .await;
        let window = json!([
            {"name": "brand", "values": ["WINDOW"]},
            {"name": "pbCreateDate", "values": [iso(start), iso(now)]}
        ]);
        for (sort, want) in [
            ("pbUpdateDate-asc", ["EDGE", "MID", "FRESH", "LATE"]),
            ("pbUpdateDate-desc", ["LATE", "FRESH", "MID", "EDGE"]),
        ] {
            let body = json!({"clientId": CLIENT, "sort": [sort], "searchFields": window});
            let r = search_at(&app, "search?size=500", &body)
                .await
                .expect(StatusCode::OK);
            assert_eq!(coids(&r), strs(&want), "{sort}");
            assert_eq!(r.body["totalElements"], 4);
            let deep = search_at(&app, "search?size=1&page=4", &body)
                .await
                .expect(StatusCode::OK);
            assert_eq!(coids(&deep), strs(&want[3..]), "{sort}, last page");
        }
        // The default window (no date criterion) gets the same bound.
        insert_copy(&app, &base, 300, "OLD", |o| {
            o.content.brand = Some("DEFAULT".into());
            o.pb_create_date = now.checked_sub_months(Months::new(7)).unwrap();
            o.pb_update_date = now - Duration::hours(2);
        })
        .await;
        insert_copy(&app, &base, 301, "NEW", |o| {
            o.content.brand = Some("DEFAULT".into());
            o.pb_create_date = now - Duration::days(1);
            o.pb_update_date = now - Duration::hours(3);
        })
        .await;
        let body = json!({
            "clientId": CLIENT,
            "sort": ["pbUpdateDate-asc"],
            "searchFields": [{"name": "brand", "values": ["DEFAULT"]}]
        });
        let r = search_at(&app, "search", &body)
            .await
            .expect(StatusCode::OK);
        assert_eq!(coids(&r), strs(&["NEW"]));
    }
);

// The rule that bound rests on, held by the database itself on both backends.
both!(
    an_order_updated_before_it_was_created_is_refused,
    |app| async move {
        let base = template(&app).await;
        let mut o = base.clone();
        o.order_id = format!("ORA{:019}US", 400);
        o.content.client_order_id = "BACKWARDS".into();
        o.pb_update_date = o.pb_create_date - Duration::milliseconds(1);
        let event = HistoryEvent::new(EventKind::Created, &o, CLIENT, None, Vec::new());
        assert!(app.store.insert(&o, None, &event).await.is_err());
        assert!(app.store.get(CLIENT, &o.order_id).await.unwrap().is_none());
        let mut moved = base.clone();
        moved.version += 1;
        moved.pb_update_date = base.pb_create_date - Duration::seconds(1);
        let event = HistoryEvent::new(EventKind::Updated, &moved, CLIENT, None, Vec::new());
        let reindex = oms::store::Reindex {
            tags: false,
            skus: false,
        };
        assert!(
            app.store
                .update(&moved, base.version, reindex, &event)
                .await
                .is_err()
        );
        let stored = app
            .store
            .get(CLIENT, &base.order_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored, base);
    }
);

both!(date_ranges_are_inclusive, |app| async move {
    create_dated(&app, "E1", "2022-01-10T00:00:00Z", "2022-06-10T00:00:00Z").await;
    create_dated(&app, "E2", "2022-01-15T12:00:00Z", "2022-06-15T12:00:00Z").await;
    create_dated(&app, "E3", "2022-01-20T23:59:59Z", "2022-06-20T23:59:59Z").await;
    let cases: [(&str, Vec<&str>, Vec<&str>); 11] = [
        (
            "createDate",
            vec!["2022-01-10T00:00:00Z", "2022-01-15T12:00:00Z"],
            vec!["E1", "E2"],
        ),
        ("createDate", vec!["2022-01-15T12:00:00Z"], vec!["E2", "E3"]),
        (
            "createDate",
            vec!["2022-01-10", "2022-01-20"],
            vec!["E1", "E2", "E3"],
        ),
        ("createDate", vec!["2022-01-20"], vec!["E3"]),
        ("createDate", vec!["2022-01-11", "2022-01-15"], vec!["E2"]),
        ("createDate", vec!["2022-01-10", "2022-01-10"], vec!["E1"]),
        (
            "createDate",
            vec!["2022-01-15T07:00:00-05:00", "2022-01-15T12:00:00Z"],
            vec!["E2"],
        ),
        ("createDate", vec!["2022-01-15T12:00:01Z"], vec!["E3"]),
        ("createDate", vec!["2022-01-21"], vec![]),
        (
            "updateDate",
            vec!["2022-06-15", "2022-06-20"],
            vec!["E2", "E3"],
        ),
        (
            "updateDate",
            vec!["2022-06-10T00:00:00Z", "2022-06-10T00:00:00Z"],
            vec!["E1"],
        ),
    ];
    for (name, values, want) in cases {
        let r = search(&app, json!([{"name": name, "values": values}])).await;
        assert_eq!(coid_set(&r), strs(&want), "{name} {values:?}");
    }
    // The server's own dates filter the same way.
    let now = Utc::now();
    let recent = json!([{"name": "pbUpdateDate", "values": [iso(now - Duration::hours(1))]}]);
    assert_eq!(
        coid_set(&search(&app, recent).await),
        strs(&["E1", "E2", "E3"])
    );
    let future = json!([{"name": "pbCreateDate", "values": [iso(now + Duration::hours(1))]}]);
    assert_eq!(search(&app, future).await.body["totalElements"], 0);
});

both!(malformed_date_ranges_are_400, |app| async move {
    let cases = [
        (json!(["yesterday"]), "searchFields[0].values[0]"),
        (json!(["2022-01-01", "soon"]), "searchFields[0].values[1]"),
        (
            json!(["2022-01-01", "2022-01-02", "2022-01-03"]),
            "searchFields[0].values",
        ),
        (json!([]), "searchFields[0].values"),
    ];
    for (values, field) in cases {
        let body =
            json!({"clientId": CLIENT, "searchFields": [{"name": "createDate", "values": values}]});
        let r = search_at(&app, "search", &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{values}: {}", r.body);
        assert_eq!(r.error_fields(), strs(&[field]), "{values}");
    }
    // A range that ends before it starts is well-formed and matches nothing.
    let reversed = json!({"clientId": CLIENT,
        "searchFields": [{"name": "createDate", "values": ["2022-01-20", "2022-01-10"]}]});
    let r = search_at(&app, "search", &reversed).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["totalElements"], 0);
});

both!(
    search_names_orders_order_id_and_client_order_id,
    |app| async move {
        let id1 = create_dated(&app, "CO-1", "2023-01-01T00:00:00Z", "2023-01-01T00:00:00Z").await;
        let id2 = create_dated(&app, "CO-2", "2023-01-02T00:00:00Z", "2023-01-02T00:00:00Z").await;
        let id3 = create_dated(&app, "CO-3", "2023-01-03T00:00:00Z", "2023-01-03T00:00:00Z").await;
        let cases: Vec<(&str, Vec<&str>, Vec<&str>)> = vec![
            ("orders", vec![&id1, "CO-2"], vec!["CO-1", "CO-2"]),
            ("orders", vec![&id3], vec!["CO-3"]),
            ("orders", vec!["CO-3", &id3], vec!["CO-3"]),
            ("orders", vec!["nope"], vec![]),
            ("ORDERS", vec!["CO-1"], vec!["CO-1"]),
            ("orderId", vec![&id2], vec!["CO-2"]),
            ("orderId", vec![&id1, &id3], vec!["CO-1", "CO-3"]),
            ("orderId", vec!["CO-2"], vec![]),
            ("OrderID", vec![&id2], vec!["CO-2"]),
            ("clientOrderId", vec!["CO-3"], vec!["CO-3"]),
            ("clientOrderId", vec![&id3], vec![]),
            ("CLIENTORDERID", vec!["CO-1", "CO-2"], vec!["CO-1", "CO-2"]),
        ];
        for (name, values, want) in cases {
            let r = search(&app, json!([{"name": name, "values": values}])).await;
            assert_eq!(coid_set(&r), strs(&want), "{name} {values:?}");
            assert_eq!(r.body["totalElements"], want.len(), "{name} {values:?}");
        }
    }
);

both!(
    names_and_enum_values_match_case_insensitively,
    |app| async move {
        let mut acme = order_numbered(CLIENT, "ACME-1");
        acme["brand"] = json!("ACME");
        acme["orderType"] = json!("eCom");
        create(&app, &acme).await;
        let mut globex = order_numbered(CLIENT, "GLOBEX-1");
        globex["brand"] = json!("Globex");
        globex["orderType"] = json!("Retail");
        create(&app, &globex).await;

        let cases: [(&str, Vec<&str>, Vec<&str>); 10] = [
            ("BRAND", vec!["acme"], vec!["ACME-1"]),
            ("Brand", vec!["GLOBEX", "Acme"], vec!["ACME-1", "GLOBEX-1"]),
            ("brand", vec!["globe"], vec![]),
            ("ORDERTYPE", vec!["RETAIL"], vec!["GLOBEX-1"]),
            ("ordertype", vec!["ecom"], vec!["ACME-1"]),
            (
                "orderType",
                vec!["eCom", "Retail"],
                vec!["ACME-1", "GLOBEX-1"],
            ),
            ("STATUS", vec!["received"], vec!["ACME-1", "GLOBEX-1"]),
            ("Status", vec!["Received"], vec!["ACME-1", "GLOBEX-1"]),
            ("status", vec!["inprogress"], vec![]),
            ("status", vec!["CANCELED", "Shipped"], vec![]),
        ];
        for (name, values, want) in cases {
            let r = search(&app, json!([{"name": name, "values": values}])).await;
            assert_eq!(coid_set(&r), strs(&want), "{name} {values:?}");
        }

        // Every documented status word is searchable; HOLD is ONHOLD's alias.
        let acme = search(&app, json!([{"name": "orders", "values": ["ACME-1"]}])).await;
        let acme_id = acme.body["orders"][0]["orderId"].as_str().unwrap();
        let base = app.store.get(CLIENT, acme_id).await.unwrap().unwrap();
        insert_copy(&app, &base, 7, "HELD-1", |o| o.status = Status::OnHold).await;
        insert_copy(&app, &base, 8, "BUSY-1", |o| o.status = Status::InProgress).await;
        let cases: [(Vec<&str>, Vec<&str>); 5] = [
            (vec!["HOLD"], vec!["HELD-1"]),
            (vec!["onhold"], vec!["HELD-1"]),
            (vec!["InProgress"], vec!["BUSY-1"]),
            (vec!["hold", "INPROGRESS"], vec!["BUSY-1", "HELD-1"]),
            (vec!["BACKORDER", "RETURNED"], vec![]),
        ];
        for (values, want) in cases {
            let r = search(&app, json!([{"name": "status", "values": values}])).await;
            assert_eq!(coid_set(&r), strs(&want), "status {values:?}");
        }
        let held = search(&app, json!([{"name": "status", "values": ["hold"]}])).await;
        assert_eq!(held.body["orders"][0]["isOnHold"], true);
    }
);

both!(unknown_names_and_enum_values_are_400, |app| async move {
    let cases = [
        (
            json!({"name": "customerOrderId", "values": ["X"]}),
            "searchFields[0].name",
        ),
        (
            json!({"name": "sku", "values": ["X"]}),
            "searchFields[0].name",
        ),
        (
            json!({"name": "nope", "values": ["X"]}),
            "searchFields[0].name",
        ),
        (
            json!({"name": "status", "values": ["DONE"]}),
            "searchFields[0].values[0]",
        ),
        (
            json!({"name": "orderType", "values": ["eCom", "Wholesale"]}),
            "searchFields[0].values[1]",
        ),
    ];
    for (field, param) in cases {
        let body = json!({"clientId": CLIENT, "searchFields": [{"name": "brand", "values": ["B"]}, field]});
        let r = search_at(&app, "search", &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{field}: {}", r.body);
        let want = param.replace("searchFields[0]", "searchFields[1]");
        assert_eq!(r.error_fields(), vec![want], "{field}");
    }
});

both!(fields_are_and_ed_and_values_or_ed, |app| async move {
    for (coid, brand, kind) in [
        ("A-ECOM", "A", "eCom"),
        ("A-RETAIL", "A", "Retail"),
        ("B-ECOM", "B", "eCom"),
        ("C-RETAIL", "C", "Retail"),
    ] {
        let mut body = order_numbered(CLIENT, coid);
        body["brand"] = json!(brand);
        body["orderType"] = json!(kind);
        create(&app, &body).await;
    }
    let brand = |v: &[&str]| json!({"name": "brand", "values": v});
    let kind = |v: &[&str]| json!({"name": "orderType", "values": v});
    let status = |v: &[&str]| json!({"name": "status", "values": v});
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!([brand(&["A", "B"])]),
            vec!["A-ECOM", "A-RETAIL", "B-ECOM"],
        ),
        (
            json!([kind(&["eCom", "Retail"])]),
            vec!["A-ECOM", "A-RETAIL", "B-ECOM", "C-RETAIL"],
        ),
        (
            json!([brand(&["A", "B"]), kind(&["Retail"])]),
            vec!["A-RETAIL"],
        ),
        (json!([brand(&["C"]), kind(&["eCom"])]), vec![]),
        (
            json!([brand(&["A", "C"]), kind(&["Retail"]), status(&["RECEIVED"])]),
            vec!["A-RETAIL", "C-RETAIL"],
        ),
        (
            json!([brand(&["A", "B", "C"]), status(&["SHIPPED"])]),
            vec![],
        ),
        (
            json!([brand(&["A"]), {"name": "orders", "values": ["A-ECOM", "B-ECOM"]}]),
            vec!["A-ECOM"],
        ),
        (
            json!([brand(&["A", "B", "C"]), {"name": "createDate", "values": ["2022-02-07"]}]),
            vec!["A-ECOM", "A-RETAIL", "B-ECOM", "C-RETAIL"],
        ),
    ];
    for (fields, want) in cases {
        let r = search(&app, fields.clone()).await;
        assert_eq!(coid_set(&r), strs(&want), "{fields}");
    }
});
