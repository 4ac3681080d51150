//! Bearer JWT, scopes, tenant isolation and the `X-PB-TransactionId` header on every Fulfillment
//! route (api-notes "Auth and tenancy", "Headers and errors"). On SQLite and PostgreSQL.

use crate::common::fixtures::*;
use crate::common::{Resp, SECRET, TestApp};
use axum::http::{HeaderValue, Method, StatusCode};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use oms::auth::{AuthKeys, Claims};
use serde_json::{Value, json};

const ORDERS: &str = "/shippingservices/fulfillment/v1/orders";

/// base64url without padding, as JWTs use.
fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// Signs arbitrary claims with the test secret (HS256 unless told otherwise).
fn sign(claims: &Value, alg: Algorithm) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(SECRET)).unwrap()
}

fn valid_claims(client: &str) -> Value {
    json!({"client_id": client, "exp": now() + 600, "iat": now(), "iss": "oms"})
}

/// Every way a bearer credential can be unacceptable, as (case, Authorization header value).
fn bad_credentials(client: &str) -> Vec<(&'static str, Option<String>)> {
    let claims = valid_claims(client);
    let unsigned = format!(
        "{}.{}.",
        b64url(br#"{"alg":"none","typ":"JWT"}"#),
        b64url(claims.to_string().as_bytes())
    );
    let expired = Claims {
        client_id: client.to_string(),
        scope: None,
        exp: now() - 3600,
        iat: now() - 7200,
        iss: "oms".into(),
        aud: None,
        api_key: None,
    };
    let expired = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &expired,
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap();
    let foreign = AuthKeys::hs256(b"another-secret-entirely", "oms", None)
        .issue(client, None, 3600)
        .unwrap();
    let mut no_client = claims.clone();
    no_client.as_object_mut().unwrap().remove("client_id");
    let mut empty_client = claims.clone();
    empty_client["client_id"] = json!("");
    let mut wrong_issuer = claims.clone();
    wrong_issuer["iss"] = json!("someone-else");
    let mut no_issuer = claims.clone();
    no_issuer.as_object_mut().unwrap().remove("iss");
    let mut no_exp = claims.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    let good = sign(&claims, Algorithm::HS256);
    let mut tampered_claims = claims.clone();
    tampered_claims["client_id"] = json!("someone-else");
    let signature = good.rsplit('.').next().unwrap();
    let tampered = format!(
        "{}.{}.{signature}",
        b64url(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64url(tampered_claims.to_string().as_bytes())
    );
    let bearer = |t: &str| Some(format!("Bearer {t}"));
    vec![
        ("missing header", None),
        ("garbage token", bearer("garbage")),
        ("empty bearer", Some("Bearer ".into())),
        ("basic scheme", Some("Basic dXNlcjpwYXNz".into())),
        ("token without scheme", Some(good.clone())),
        ("signed with another secret", bearer(&foreign)),
        ("alg none", bearer(&unsigned)),
        (
            "alg none without dot",
            bearer(unsigned.trim_end_matches('.')),
        ),
        (
            "HS512 with the right secret",
            bearer(&sign(&claims, Algorithm::HS512)),
        ),
        ("tampered payload", bearer(&tampered)),
        ("expired", bearer(&expired)),
        (
            "missing client_id",
            bearer(&sign(&no_client, Algorithm::HS256)),
        ),
        (
            "empty client_id",
            bearer(&sign(&empty_client, Algorithm::HS256)),
        ),
        (
            "wrong issuer",
            bearer(&sign(&wrong_issuer, Algorithm::HS256)),
        ),
        (
            "missing issuer",
            bearer(&sign(&no_issuer, Algorithm::HS256)),
        ),
        ("missing exp", bearer(&sign(&no_exp, Algorithm::HS256))),
    ]
}

async fn create(app: &TestApp, client: &str, coid: &str) -> Value {
    let t = app.token(client);
    app.post(ORDERS)
        .bearer(&t)
        .txid(&format!("c-{coid}"))
        .json(&order_numbered(client, coid))
        .send()
        .await
        .expect(StatusCode::CREATED)
        .body
}

/// The five Fulfillment routes, each with a request that would succeed for `client`.
fn routes(client: &str, order_id: &str) -> Vec<(Method, String, Option<Value>)> {
    let search = json!({"clientId": client});
    vec![
        (
            Method::POST,
            ORDERS.to_string(),
            Some(order_numbered(client, "ROUTE-NEW")),
        ),
        (
            Method::GET,
            format!("{ORDERS}/{order_id}?clientId={client}"),
            None,
        ),
        (
            Method::PUT,
            format!("{ORDERS}/{order_id}"),
            Some(seed_replace(client)),
        ),
        (
            Method::POST,
            format!("{ORDERS}/search"),
            Some(search.clone()),
        ),
        (
            Method::POST,
            format!("{ORDERS}/status/search"),
            Some(search),
        ),
    ]
}

/// Sends with a raw `Authorization` value (or none).
async fn send_auth(
    app: &TestApp,
    method: Method,
    path: &str,
    authorization: Option<&str>,
    body: Option<&Value>,
) -> Resp {
    let mut req = app.request(method, path).txid("auth-test");
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    req.maybe_json(body).send().await
}

both!(bad_credentials_are_401_on_every_route, |app| async move {
    let order = create(&app, "C1", "KEEP").await;
    let id = order["orderId"].as_str().unwrap();
    for (case, auth) in bad_credentials("C1") {
        for (method, path, body) in routes("C1", id) {
            let r = send_auth(&app, method.clone(), &path, auth.as_deref(), body.as_ref()).await;
            assert_eq!(
                r.status,
                StatusCode::UNAUTHORIZED,
                "{case}: {method} {path} -> {}",
                r.body
            );
            assert_eq!(
                r.header("www-authenticate"),
                Some("Bearer"),
                "{case}: {method} {path}"
            );
            assert_eq!(
                r.error_code(),
                "unauthorized_error",
                "{case}: {method} {path}"
            );
        }
    }
    // Nothing was created or replaced by any of them.
    let stored = app.store.get("C1", id).await.unwrap().unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored.content.client_order_id, "KEEP");
    let t = app.token("C1");
    let all = app
        .post(&format!("{ORDERS}/search"))
        .bearer(&t)
        .txid("s")
        .json(&json!({"clientId": "C1"}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(all.body["totalElements"], 1);

    // The same request with a good token works, so the failures above were about the token.
    for (method, path, body) in routes("C1", id) {
        let r = send_auth(
            &app,
            method.clone(),
            &path,
            Some(&format!("Bearer {t}")),
            body.as_ref(),
        )
        .await;
        assert!(
            r.status.is_success(),
            "{method} {path}: {} {}",
            r.status,
            r.body
        );
    }
});

both!(read_scope_reads_but_cannot_write, |app| async move {
    let order = create(&app, "C1", "KEEP").await;
    let id = order["orderId"].as_str().unwrap();
    let read = app.token_with_scope("C1", "orders:read");
    for (method, path, body) in routes("C1", id) {
        let r = app
            .request(method.clone(), &path)
            .bearer(&read)
            .txid("ro")
            .maybe_json(body.as_ref())
            .send()
            .await;
        let writes = method == Method::PUT || path == ORDERS;
        let want = if writes {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::OK
        };
        assert_eq!(r.status, want, "{method} {path}: {}", r.body);
        if writes {
            assert_eq!(r.error_code(), "forbidden_error");
        }
    }
    let stored = app.store.get("C1", id).await.unwrap().unwrap();
    assert_eq!(stored.version, 1, "a read-only token changed the order");
    let search =
        json!({"clientId": "C1", "searchFields": [{"name": "orders", "values": ["ROUTE-NEW"]}]});
    let r = app
        .post(&format!("{ORDERS}/search"))
        .bearer(&read)
        .txid("ro")
        .json(&search)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        r.body["totalElements"], 0,
        "a read-only token created an order"
    );

    // The write scope writes; a token with neither scope can do nothing.
    let write = app.token_with_scope("C1", "orders:read orders:write");
    app.put(&format!("{ORDERS}/{id}"))
        .bearer(&write)
        .txid("rw")
        .json(&seed_replace("C1"))
        .send()
        .await
        .expect(StatusCode::OK);
    let neither = app.token_with_scope("C1", "profile");
    for (method, path, body) in routes("C1", id) {
        let r = app
            .request(method.clone(), &path)
            .bearer(&neither)
            .txid("no")
            .maybe_json(body.as_ref())
            .send()
            .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{method} {path}: {}",
            r.body
        );
    }
});

both!(
    another_clients_order_is_404_and_untouched,
    |app| async move {
        let order = create(&app, "C1", "MINE").await;
        let id = order["orderId"].as_str().unwrap();
        let before = app.store.get("C1", id).await.unwrap().unwrap();
        let intruder = app.token("C2");

        let view = app
            .get(&format!("{ORDERS}/{id}?clientId=C2"))
            .bearer(&intruder)
            .txid("x1")
            .send()
            .await
            .expect(StatusCode::NOT_FOUND);
        let replace = app
            .put(&format!("{ORDERS}/{id}"))
            .bearer(&intruder)
            .txid("x2")
            .json(&seed_replace("C2"))
            .send()
            .await
            .expect(StatusCode::NOT_FOUND);
        // Exactly as an order that does not exist at all.
        let missing = "ORA0000000000000000001US";
        let none = app
            .get(&format!("{ORDERS}/{missing}?clientId=C2"))
            .bearer(&intruder)
            .txid("x3")
            .send()
            .await
            .expect(StatusCode::NOT_FOUND);
        assert_eq!(view.error_code(), none.error_code());
        assert_eq!(replace.error_code(), none.error_code());
        assert!(
            !view.body.to_string().contains("C1") && !replace.body.to_string().contains("C1"),
            "the 404 leaks the owner: {} {}",
            view.body,
            replace.body
        );

        let after = app.store.get("C1", id).await.unwrap().unwrap();
        assert_eq!(after, before);
        assert!(app.store.get("C2", id).await.unwrap().is_none());
        let owner = app.token("C1");
        let got = app
            .get(&format!("{ORDERS}/{id}?clientId=C1"))
            .bearer(&owner)
            .txid("x4")
            .send()
            .await
            .expect(StatusCode::OK);
        assert_eq!(got.body, order);
    }
);

both!(a_client_id_other_than_the_tokens_is_403, |app| async move {
    let order = create(&app, "C1", "MINE").await;
    let id = order["orderId"].as_str().unwrap();
    let t = app.token("C1");
    // Every route, addressed to C2 in the body or the query, with C1's token.
    for (method, path, body) in routes("C2", id) {
        let r = app
            .request(method.clone(), &path)
            .bearer(&t)
            .txid("cross")
            .maybe_json(body.as_ref())
            .send()
            .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{method} {path}: {}",
            r.body
        );
        assert_eq!(r.error_code(), "forbidden_error");
    }
    let stored = app.store.get("C1", id).await.unwrap().unwrap();
    assert_eq!(stored.version, 1);
    for client in ["C1", "C2"] {
        let token = app.token(client);
        let r = app
            .post(&format!("{ORDERS}/search"))
            .bearer(&token)
            .txid("s")
            .json(&json!({"clientId": client}))
            .send()
            .await
            .expect(StatusCode::OK);
        let want = if client == "C1" { 1 } else { 0 };
        assert_eq!(r.body["totalElements"], want, "{client}");
    }
    // The clientId is required where the documents put it.
    app.get(&format!("{ORDERS}/{id}"))
        .bearer(&t)
        .txid("q")
        .send()
        .await
        .expect(StatusCode::BAD_REQUEST);
    let r = app
        .post(&format!("{ORDERS}/search"))
        .bearer(&t)
        .txid("q")
        .json(&json!({}))
        .send()
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.error_fields(), ["clientId"]);
});

both!(search_never_shows_other_tenants, |app| async move {
    let a1 = create(&app, "C1", "SHARED").await;
    create(&app, "C1", "ONLY-C1").await;
    let b1 = create(&app, "C2", "SHARED").await;
    let a_id = a1["orderId"].as_str().unwrap();
    let b_id = b1["orderId"].as_str().unwrap();
    for (client, want_total, own, foreign) in [("C1", 2, a_id, b_id), ("C2", 1, b_id, a_id)] {
        let t = app.token(client);
        for route in ["search", "status/search"] {
            let all = app
                .post(&format!("{ORDERS}/{route}"))
                .bearer(&t)
                .txid("s")
                .json(&json!({"clientId": client}))
                .send()
                .await
                .expect(StatusCode::OK);
            assert_eq!(all.body["totalElements"], want_total, "{client} {route}");
            for o in all.body["orders"].as_array().unwrap() {
                assert_eq!(o["clientId"], client, "{route} showed {o}");
            }
            let by_ids = json!({
                "clientId": client,
                "searchFields": [{"name": "orders", "values": [own, foreign, "SHARED"]}]
            });
            let r = app
                .post(&format!("{ORDERS}/{route}"))
                .bearer(&t)
                .txid("s")
                .json(&by_ids)
                .send()
                .await
                .expect(StatusCode::OK);
            assert_eq!(r.body["totalElements"], 1, "{client} {route}: {}", r.body);
            assert_eq!(r.body["orders"][0]["orderId"], own);
        }
    }
});

both!(transaction_id_is_required_and_validated, |app| async move {
    let order = create(&app, "C1", "MINE").await;
    let id = order["orderId"].as_str().unwrap();
    let t = app.token("C1");
    let max = "A".repeat(25);
    let too_long = "A".repeat(26);
    let bad: Vec<(&str, Option<&str>)> = vec![
        ("missing", None),
        ("empty", Some("")),
        ("26 characters", Some(&too_long)),
        ("space", Some("abc def")),
        ("dot", Some("abc.def")),
        ("slash", Some("abc/def")),
        ("dollar", Some("abc$")),
        ("colon", Some("a:b")),
    ];
    for (case, txid) in &bad {
        for (method, path, body) in routes("C1", id) {
            let r = app
                .request(method.clone(), &path)
                .bearer(&t)
                .maybe_txid(*txid)
                .maybe_json(body.as_ref())
                .send()
                .await;
            assert_eq!(
                r.status,
                StatusCode::BAD_REQUEST,
                "{case}: {method} {path}: {}",
                r.body
            );
            assert_eq!(
                r.error_fields(),
                ["X-PB-TransactionId"],
                "{case}: {method} {path}"
            );
        }
    }
    // Non-ASCII bytes in the header.
    let r = app
        .get(&format!("{ORDERS}/{id}?clientId=C1"))
        .bearer(&t)
        .header(
            "x-pb-transactionid",
            HeaderValue::from_bytes(b"caf\xe9").unwrap(),
        )
        .send()
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.error_fields(), ["X-PB-TransactionId"]);
    assert_eq!(app.store.get("C1", id).await.unwrap().unwrap().version, 1);

    // Valid ids, up to 25 of letters, digits, '-' and '_', are echoed back on every route.
    for (i, (method, path, body)) in routes("C1", id).into_iter().enumerate() {
        let txid = format!("{}{i}", &max[..24]);
        let txid = if i == 0 { "a-Z_9".to_string() } else { txid };
        let r = app
            .request(method.clone(), &path)
            .bearer(&t)
            .txid(&txid)
            .maybe_json(body.as_ref())
            .send()
            .await;
        assert!(
            r.status.is_success(),
            "{method} {path}: {} {}",
            r.status,
            r.body
        );
        assert_eq!(
            r.header("x-pb-transactionid"),
            Some(txid.as_str()),
            "{method} {path}"
        );
    }
    // Also on errors.
    let r = app
        .get(&format!("{ORDERS}/ORA0000000000000000001US?clientId=C1"))
        .bearer(&t)
        .txid(&max)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);
    assert_eq!(r.header("x-pb-transactionid"), Some(max.as_str()));
});
