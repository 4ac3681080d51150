//! Hostile bearer tokens (issue 17, tokens): a token not valid yet, client ids that name no
//! tenant, and 401 bodies that carry the documented message and our reason, never the JWT
//! library's text. On SQLite and PostgreSQL, on both surfaces.

use crate::common::fixtures::seed_search;
use crate::common::sendpro_fixtures::OM;
use crate::common::{Resp, SECRET, TestApp};
use axum::http::StatusCode;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use oms::auth::MAX_CLIENT_ID_LEN;
use serde_json::{Value, json};

const DOCUMENTED: &str = "Unauthorized access. Valid authentication credentials are required.";

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn sign(claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

fn for_client(client: &str) -> String {
    sign(&json!({"client_id": client, "exp": now() + 600, "iss": "oms"}))
}

/// A search on the Fulfillment surface, which reaches the database when the token passes.
async fn fulfillment(app: &TestApp, token: &str, client: &str) -> Resp {
    app.post("/shippingservices/fulfillment/v1/orders/search")
        .bearer(token)
        .txid("abuse-tokens")
        .json(&seed_search(client))
        .send()
        .await
}

/// A search on the SendPro360 surface, whose tenant comes from the token alone.
async fn sendpro(app: &TestApp, token: &str) -> Resp {
    app.post(&format!("{OM}/orders/search"))
        .bearer(token)
        .json(&json!({}))
        .send()
        .await
}

/// The 401 in the Fulfillment shape: documented message, our reason as additionalInfo.
fn fulfillment_reason(r: &Resp) -> String {
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    let e = &r.body["errors"][0];
    assert_eq!(e["errorCode"], "unauthorized_error", "{}", r.body);
    assert_eq!(e["errorDescription"], DOCUMENTED, "{}", r.body);
    e["additionalInfo"].as_str().unwrap().to_string()
}

fn sendpro_reason(r: &Resp) -> String {
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert_eq!(r.body["errorCode"], "unauthorized_error", "{}", r.body);
    assert_eq!(r.body["message"], DOCUMENTED, "{}", r.body);
    r.body["additionalInfo"].as_str().unwrap().to_string()
}

both!(
    a_token_not_valid_yet_is_401_past_the_leeway,
    |app| async move {
        let claims =
            |nbf: u64| json!({"client_id": "C1", "exp": now() + 600, "iss": "oms", "nbf": nbf});
        let early = sign(&claims(now() + 120));
        assert!(
            fulfillment_reason(&fulfillment(&app, &early, "C1").await).contains("not valid yet")
        );
        assert!(sendpro_reason(&sendpro(&app, &early).await).contains("not valid yet"));
        // Within the 30 s leeway that exp also gets, the token is good.
        let skewed = sign(&claims(now() + 10));
        fulfillment(&app, &skewed, "C1")
            .await
            .expect(StatusCode::OK);
        sendpro(&app, &skewed).await.expect(StatusCode::OK);
    }
);

both!(
    client_ids_naming_no_tenant_are_401_not_500,
    |app| async move {
        let longest = "c".repeat(MAX_CLIENT_ID_LEN);
        fulfillment(&app, &for_client(&longest), &longest)
            .await
            .expect(StatusCode::OK);
        for bad in [
            String::new(),
            " ".into(),
            format!("{longest}c"),
            "C1\u{0}".into(),
            "\u{0}".into(),
            "C\u{1b}[31m1".into(),
            "C1\r\nX-Injected: 1".into(),
        ] {
            let token = for_client(&bad);
            let f = fulfillment_reason(&fulfillment(&app, &token, &bad).await);
            assert!(f.contains("client_id"), "{bad:?}: {f}");
            let s = sendpro_reason(&sendpro(&app, &token).await);
            assert!(s.contains("client_id"), "{bad:?}: {s}");
        }
    }
);

both!(refusals_never_show_library_internals, |app| async move {
    let none_alg = format!(
        "{}.{}.",
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0",
        "eyJjbGllbnRfaWQiOiJDMSIsImV4cCI6OTk5OTk5OTk5OSwiaXNzIjoib21zIn0"
    );
    let cases = [
        "a.b.c".to_string(),
        "x.y".into(),
        none_alg,
        sign(&json!({"client_id": ["C1"], "exp": now() + 600, "iss": "oms"})),
        sign(&json!({"client_id": "C1", "exp": "soon", "iss": "oms"})),
    ];
    for token in cases {
        for r in [
            fulfillment(&app, &token, "C1").await,
            sendpro(&app, &token).await,
        ] {
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{token}: {}", r.body);
            let text = r.body.to_string();
            for internal in [
                "Base64",
                "variant",
                "invalid type",
                "Json",
                "Error",
                "symbol",
            ] {
                assert!(!text.contains(internal), "{token}: {text}");
            }
            assert!(text.contains(DOCUMENTED), "{token}: {text}");
        }
    }
});
