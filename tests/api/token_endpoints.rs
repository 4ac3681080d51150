//! The documented token endpoints (issue 19, step 2): `POST /oauth/token` and
//! `POST /auth/api/v1/token`, their shapes, refusals and lifetimes, and that what they issue
//! opens the API. On SQLite and PostgreSQL.

use std::time::Duration;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use oms::rate_limit::{ADDR_FAILURES, KEY_FAILURES};
use oms::service::api_clients::{ApiClients, Issued};
use oms::service::tokens::TokenLifetimes;
use oms::state::HttpSettings;
use serde_json::json;

use crate::common::fixtures::seed_search;
use crate::common::sendpro_fixtures::OM;
use crate::common::{Backend, Resp, TestApp};

const OAUTH: &str = "/oauth/token";
const SP_TOKEN: &str = "/auth/api/v1/token";
const DOCUMENTED: &str = "Unauthorized access. Valid authentication credentials are required.";
const GRANT: &str = "grant_type=client_credentials";

fn basic(key: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{key}:{secret}")))
}

async fn new_key(app: &TestApp, client: &str, scope: Option<&str>) -> Issued {
    ApiClients::new(app.store.clone())
        .create(client, None, scope)
        .await
        .unwrap()
}

async fn token_request(app: &TestApp, path: &str, auth: Option<&str>, form: &str) -> Resp {
    let mut req = app
        .post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_string());
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    req.send().await
}

async fn fulfillment_search(app: &TestApp, token: &str, client: &str) -> Resp {
    app.post("/shippingservices/fulfillment/v1/orders/search")
        .bearer(token)
        .txid("tok")
        .json(&seed_search(client))
        .send()
        .await
}

both!(
    the_fulfillment_endpoint_answers_the_documented_shape,
    |app| async move {
        let key = new_key(&app, "1234", None).await;
        let auth = basic(&key.client.api_key, &key.secret);
        let before = jsonwebtoken::get_current_timestamp() * 1000;
        let r = token_request(&app, OAUTH, Some(&auth), GRANT)
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.body["tokenType"], "BearerToken");
        assert_eq!(r.body["expiresIn"], "36000");
        assert_eq!(r.body["clientID"], "1234");
        assert_eq!(r.body["org"], "oms");
        let issued: u64 = r.body["issuedAt"].as_str().unwrap().parse().unwrap();
        assert!(
            issued >= before / 1000 * 1000 && issued <= before + 5000,
            "{issued}"
        );
        let token = r.body["access_token"].as_str().unwrap();
        let claims = app.keys.verify(token).unwrap();
        assert_eq!(claims.client_id, "1234");
        assert_eq!(claims.exp - claims.iat, 36000);
        // The token opens the API, for its own tenant only.
        fulfillment_search(&app, token, "1234")
            .await
            .expect(StatusCode::OK);
        fulfillment_search(&app, token, "5678")
            .await
            .expect(StatusCode::FORBIDDEN);
    }
);

both!(
    the_sendpro_endpoint_answers_the_documented_shape,
    |app| async move {
        let key = new_key(&app, "1234", Some("orders:read")).await;
        let auth = basic(&key.client.api_key, &key.secret);
        let r = token_request(
            &app,
            SP_TOKEN,
            Some(&auth),
            "grant_type=client_credentials&scope=psapi",
        )
        .await
        .expect(StatusCode::OK);
        assert_eq!(r.body["token_type"], "Bearer");
        assert_eq!(r.body["expires_in"], 14400);
        assert_eq!(r.body["scope"], "orders:read");
        let token = r.body["access_token"].as_str().unwrap();
        app.post(&format!("{OM}/orders/search"))
            .bearer(token)
            .json(&json!({}))
            .send()
            .await
            .expect(StatusCode::OK);
        // The key may only read, so its token may not write.
        app.post(&format!("{OM}/orders"))
            .bearer(token)
            .json(&crate::common::sendpro_fixtures::sendpro_create("N1"))
            .send()
            .await
            .expect(StatusCode::FORBIDDEN);
        // Asking for more than the key has is 400.
        let wider = token_request(
            &app,
            SP_TOKEN,
            Some(&auth),
            "grant_type=client_credentials&scope=orders:write",
        )
        .await
        .expect(StatusCode::BAD_REQUEST);
        assert_eq!(wider.body["errorCode"], "validation_error");
    }
);

both!(
    bad_credentials_are_401_in_each_familys_shape,
    |app| async move {
        let key = new_key(&app, "1234", None).await;
        let revoked = new_key(&app, "1234", None).await;
        let clients = ApiClients::new(app.store.clone());
        assert!(clients.revoke(&revoked.client.api_key).await.unwrap());
        let k = key.client.api_key.as_str();
        let cases: Vec<(&str, Option<String>)> = vec![
            ("no header", None),
            ("wrong secret", Some(basic(k, "x".repeat(64).as_str()))),
            ("unknown key", Some(basic("omsk_nope", &key.secret))),
            (
                "revoked key",
                Some(basic(&revoked.client.api_key, &revoked.secret)),
            ),
            (
                "bearer scheme",
                Some(format!("Bearer {}", app.token("1234"))),
            ),
            ("not base64", Some("Basic %%%".into())),
            ("no colon", Some(format!("Basic {}", STANDARD.encode(k)))),
        ];
        for (case, auth) in &cases {
            let f = token_request(&app, OAUTH, auth.as_deref(), GRANT).await;
            assert_eq!(f.status, StatusCode::UNAUTHORIZED, "{case}: {}", f.body);
            assert_eq!(
                f.body["errors"][0]["errorCode"], "unauthorized_error",
                "{case}"
            );
            assert_eq!(
                f.body["errors"][0]["errorDescription"], DOCUMENTED,
                "{case}"
            );
            assert_eq!(
                f.header("www-authenticate"),
                Some("Basic realm=\"oms\""),
                "{case}"
            );
            let s = token_request(&app, SP_TOKEN, auth.as_deref(), GRANT).await;
            assert_eq!(s.status, StatusCode::UNAUTHORIZED, "{case}: {}", s.body);
            assert_eq!(s.body["errorCode"], "unauthorized_error", "{case}");
            assert_eq!(s.body["message"], DOCUMENTED, "{case}");
        }
        // Wrong secret, unknown key and revoked key read alike: nothing tells which keys exist.
        let mut infos = Vec::new();
        for (_, auth) in &cases[1..4] {
            let s = token_request(&app, SP_TOKEN, auth.as_deref(), GRANT).await;
            infos.push(s.body["additionalInfo"].as_str().unwrap().to_string());
        }
        assert!(infos.iter().all(|i| *i == infos[0]), "{infos:?}");
        // The right secret still works: the failures changed nothing.
        token_request(&app, OAUTH, Some(&basic(k, &key.secret)), GRANT)
            .await
            .expect(StatusCode::OK);
    }
);

both!(
    grant_types_other_than_client_credentials_are_400,
    |app| async move {
        let key = new_key(&app, "1234", None).await;
        let auth = basic(&key.client.api_key, &key.secret);
        for form in ["", "grant_type=password", "grant_type=", "scope=psapi"] {
            let f = token_request(&app, OAUTH, Some(&auth), form).await;
            assert_eq!(f.status, StatusCode::BAD_REQUEST, "{form}: {}", f.body);
            assert_eq!(f.error_fields(), vec!["grant_type"], "{form}");
            let s = token_request(&app, SP_TOKEN, Some(&auth), form).await;
            assert_eq!(s.status, StatusCode::BAD_REQUEST, "{form}: {}", s.body);
            assert_eq!(s.body["additionalInfo"], "grant_type", "{form}");
        }
    }
);

#[tokio::test]
async fn lifetimes_are_configurable() {
    let settings = HttpSettings {
        token_lifetimes: TokenLifetimes {
            fulfillment: Duration::from_secs(120),
            sendpro: Duration::from_secs(60),
        },
        ..HttpSettings::default()
    };
    let app = TestApp::with_settings(Backend::Sqlite, settings).await;
    let key = new_key(&app, "1234", None).await;
    let auth = basic(&key.client.api_key, &key.secret);
    let f = token_request(&app, OAUTH, Some(&auth), GRANT)
        .await
        .expect(StatusCode::OK);
    assert_eq!(f.body["expiresIn"], "120");
    let s = token_request(&app, SP_TOKEN, Some(&auth), GRANT)
        .await
        .expect(StatusCode::OK);
    assert_eq!(s.body["expires_in"], 60);
    let claims = app
        .keys
        .verify(s.body["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(claims.exp - claims.iat, 60);
    app.finish().await;
}

both!(
    failed_secrets_for_a_key_are_rate_limited,
    |app| async move {
        let key = new_key(&app, "1234", None).await;
        let other = new_key(&app, "1234", None).await;
        let k = key.client.api_key.as_str();
        for i in 0..KEY_FAILURES {
            let wrong = basic(k, &format!("guess-{i}"));
            let path = if i % 2 == 0 { OAUTH } else { SP_TOKEN };
            token_request(&app, path, Some(&wrong), GRANT)
                .await
                .expect(StatusCode::UNAUTHORIZED);
        }
        // Now even the right secret waits: guessing cannot go faster than the refill.
        for path in [OAUTH, SP_TOKEN] {
            let r = token_request(&app, path, Some(&basic(k, &key.secret)), GRANT).await;
            assert_eq!(
                r.status,
                StatusCode::TOO_MANY_REQUESTS,
                "{path}: {}",
                r.body
            );
            assert_eq!(r.error_code(), "rate_limited");
            let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
            assert!((1..=6).contains(&wait), "{wait}");
        }
        // Another key is not held back by this one's failures.
        token_request(
            &app,
            OAUTH,
            Some(&basic(&other.client.api_key, &other.secret)),
            GRANT,
        )
        .await
        .expect(StatusCode::OK);
    }
);

/// Over real TCP, the peer's address is limited across keys: a caller trying many keys is
/// held back even on a key it has not tried yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_secrets_from_one_address_are_rate_limited() {
    use crate::common::process::http::send;
    use crate::common::process::proc::Server;
    let app = TestApp::new(Backend::Sqlite).await;
    let server = Server::start(&[
        ("DATABASE_URL", app.url.clone()),
        (
            "OMS_JWT_SECRET",
            std::str::from_utf8(crate::common::SECRET)
                .unwrap()
                .to_string(),
        ),
    ])
    .await;
    let key = new_key(&app, "1234", None).await;
    let attempt = |auth: String| async move {
        send(
            server.addr,
            "POST",
            OAUTH,
            &[
                ("Authorization", auth.as_str()),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            Some(GRANT.as_bytes()),
        )
        .await
        .unwrap()
    };
    for i in 0..ADDR_FAILURES {
        let r = attempt(basic(&format!("omsk_guess{i}"), "x")).await;
        assert_eq!(r.status, 401, "attempt {i}");
    }
    let held = attempt(basic(&key.client.api_key, &key.secret)).await;
    assert_eq!(held.status, 429);
    assert!(held.header("retry-after").is_some());
    drop(server);
    app.finish().await;
}
