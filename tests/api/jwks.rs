//! An external issuer's keys from its JWKS (issue 19, signing keys): served on loopback by the
//! test, over http and over https with a self-signed certificate, fetched on first need, cached
//! by kid, fetched again for an unknown kid at most once per interval (a minute in production,
//! one second here).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use oms::auth::AuthKeys;
use oms::jwks::Jwks;
use serde_json::json;

const KEY_A: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgesp69vgUYSHdK8PQ
vy8QRgtphg226CWsH5BPQ7/bAyKhRANCAATimBo3wr3vmCMZlcmbUi7zQuYTzIOe
wo8b2kapFz8rzLcuHCLtvOuejiIhFaX3svFNGsrSlr3adcA8Pj2HLUaz
-----END PRIVATE KEY-----";
const KEY_B: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg5qQrBF+TRjNogeUZ
VWXlhe/Tc7FQs9MsNsvmOBank6qhRANCAATIEB9/c326UswpnitM0wYdzzAxWRUH
ZTctO39diE29EtRJloj4j2jrkoYkraGjCKanp6Z/TsX9C2YOpvcjW3Cm
-----END PRIVATE KEY-----";

struct Issuer {
    set: Mutex<JwkSet>,
    fetches: AtomicUsize,
}

fn jwk(pem: &str, kid: &str) -> Jwk {
    let key = EncodingKey::from_ec_pem(pem.as_bytes()).unwrap();
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::ES256).unwrap();
    jwk.common.key_id = Some(kid.into());
    jwk
}

fn token(pem: &str, kid: &str, client: &str) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.into());
    let claims = json!({
        "client_id": client, "iss": "idp", "exp": jsonwebtoken::get_current_timestamp() + 600,
    });
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

/// Serves the issuer's current set on loopback; returns its URL.
async fn serve(issuer: Arc<Issuer>) -> String {
    async fn keys(State(issuer): State<Arc<Issuer>>) -> axum::Json<JwkSet> {
        issuer.fetches.fetch_add(1, Ordering::SeqCst);
        axum::Json(issuer.set.lock().unwrap().clone())
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/jwks.json", get(keys))
        .with_state(issuer);
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/jwks.json")
}

#[tokio::test]
async fn keys_are_fetched_cached_and_refetched_for_an_unknown_kid_at_most_once_per_interval() {
    let issuer = Arc::new(Issuer {
        set: Mutex::new(JwkSet {
            keys: vec![jwk(KEY_A, "a")],
        }),
        fetches: AtomicUsize::new(0),
    });
    let url = serve(issuer.clone()).await;
    let jwks = Jwks::new(&url, Duration::from_secs(1)).unwrap();
    let keys = AuthKeys::jwks(Algorithm::ES256, jwks, "idp", None).unwrap();
    let fetches = || issuer.fetches.load(Ordering::SeqCst);

    assert_eq!(
        keys.verify_fetching(&token(KEY_A, "a", "c1"))
            .await
            .unwrap()
            .client_id,
        "c1"
    );
    assert_eq!(fetches(), 1);
    assert!(keys.verify_fetching(&token(KEY_A, "a", "c1")).await.is_ok());
    assert_eq!(fetches(), 1, "cached");

    // The issuer rotates to B. Right after a fetch, an unknown kid does not fetch again, however
    // many tokens name one at once.
    issuer.set.lock().unwrap().keys = vec![jwk(KEY_B, "b")];
    let b = token(KEY_B, "b", "c1");
    let tries = (0..20).map(|_| keys.verify_fetching(&b));
    for r in futures_util::future::join_all(tries).await {
        assert!(matches!(r, Err(oms::error::ApiError::Unauthorized(_))));
    }
    assert_eq!(fetches(), 1, "no fetch within the interval");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let tries = (0..20).map(|_| keys.verify_fetching(&b));
    for r in futures_util::future::join_all(tries).await {
        assert!(r.is_ok());
    }
    assert_eq!(fetches(), 2, "one fetch for all the misses");
    // A key signed with a key the issuer dropped, or a kid of B's with A's signature, fails.
    assert!(
        keys.verify_fetching(&token(KEY_A, "b", "c1"))
            .await
            .is_err()
    );
    assert!(
        keys.verify_fetching(&token(KEY_A, "a", "c1"))
            .await
            .is_err()
    );
}

/// Through the router: the bearer extractor uses the JWKS.
#[tokio::test]
async fn the_api_accepts_tokens_of_the_jwks_keys() {
    let issuer = Arc::new(Issuer {
        set: Mutex::new(JwkSet {
            keys: vec![jwk(KEY_A, "a")],
        }),
        fetches: AtomicUsize::new(0),
    });
    let url = serve(issuer).await;
    let keys = AuthKeys::jwks(
        Algorithm::ES256,
        Jwks::new(&url, Duration::from_secs(60)).unwrap(),
        "idp",
        None,
    )
    .unwrap();
    let test = crate::common::TestApp::new(crate::common::Backend::Sqlite).await;
    let router = oms::app(oms::AppState::new(test.store.clone(), keys));
    let get = |token: String| {
        let router = router.clone();
        async move {
            use tower::ServiceExt;
            let req = axum::http::Request::get(
                "/shippingservices/fulfillment/v1/orders/NOPE?clientId=c1",
            )
            .header("authorization", format!("Bearer {token}"))
            .header("x-pb-transactionid", "jwks")
            .body(axum::body::Body::empty())
            .unwrap();
            router.oneshot(req).await.unwrap().status()
        }
    };
    assert_eq!(get(token(KEY_A, "a", "c1")).await, StatusCode::NOT_FOUND);
    assert_eq!(get(token(KEY_B, "a", "c1")).await, StatusCode::UNAUTHORIZED);
    assert_eq!(get(token(KEY_B, "z", "c1")).await, StatusCode::UNAUTHORIZED);
    test.finish().await;
}

/// Serves `set` over https on loopback with a new self-signed certificate for 127.0.0.1; returns
/// the URL, the certificate (PEM) and how many JWKS requests arrived over an accepted TLS session.
async fn serve_https(set: JwkSet) -> (String, String, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls;

    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let cert_pem = certified.cert.pem();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.key_pair.serialize_der().into());
    // The test's own TLS server; see src/jwks.rs on ring's deprecation.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let body = serde_json::to_vec(&set).unwrap();
    let requests = Arc::new(AtomicUsize::new(0));
    let seen = requests.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (acceptor, body, seen) = (acceptor.clone(), body.clone(), seen.clone());
            tokio::spawn(async move {
                // A client that does not trust the certificate ends here.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                seen.fetch_add(1, Ordering::SeqCst);
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.write_all(&body).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (format!("https://{addr}/jwks.json"), cert_pem, requests)
}

/// Issue 19 item 5: an https JWKS, trusted through `OMS_JWT_JWKS_CA_FILE`; without that file
/// the self-signed issuer is not trusted (the public roots do not include it) and its tokens
/// are refused.
#[tokio::test]
async fn an_https_jwks_is_trusted_through_the_ca_file() {
    let set = JwkSet {
        keys: vec![jwk(KEY_A, "a")],
    };
    let (url, cert_pem, requests) = serve_https(set).await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("issuer-ca.pem");
    std::fs::write(&ca_file, &cert_pem).unwrap();

    let trusted = Jwks::with_ca_file(&url, Duration::from_secs(60), Some(&ca_file)).unwrap();
    let keys = AuthKeys::jwks(Algorithm::ES256, trusted, "idp", None).unwrap();
    let caller = keys
        .verify_fetching(&token(KEY_A, "a", "c1"))
        .await
        .unwrap();
    assert_eq!(caller.client_id, "c1");
    assert_eq!(requests.load(Ordering::SeqCst), 1);

    let untrusted = Jwks::new(&url, Duration::from_secs(60)).unwrap();
    let keys = AuthKeys::jwks(Algorithm::ES256, untrusted, "idp", None).unwrap();
    assert!(matches!(
        keys.verify_fetching(&token(KEY_A, "a", "c1")).await,
        Err(oms::error::ApiError::Unauthorized(_))
    ));
    assert_eq!(
        requests.load(Ordering::SeqCst),
        1,
        "no request got past the TLS handshake"
    );

    // A CA file that holds no certificate is a configuration error at start, not a silent miss.
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let error = Jwks::with_ca_file(&url, Duration::from_secs(60), Some(&empty))
        .err()
        .expect("refused");
    assert!(
        format!("{error:#}").contains("no PEM certificate"),
        "{error:#}"
    );
    let error = Jwks::new("ftp://127.0.0.1/jwks.json", Duration::from_secs(60))
        .err()
        .expect("refused");
    assert!(format!("{error:#}").contains("https://"), "{error:#}");
}
