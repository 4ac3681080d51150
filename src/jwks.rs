//! An external issuer's signing keys from its JWKS (`OMS_JWT_JWKS_URL`): fetched on first need,
//! cached by `kid`, and fetched again when a token names a `kid` the cache lacks (the issuer
//! rotated), at most once per [`REFETCH_AT_MOST_EVERY`] so that tokens with made-up kids cannot
//! make the server hammer the issuer.
//!
//! The URL may be `http://` or `https://`. An https issuer is trusted through Mozilla's roots,
//! compiled in (webpki-roots), and, when given, the certificates of a PEM file of our own
//! (`OMS_JWT_JWKS_CA_FILE`, for an issuer with a private CA).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::JwkSet;
use tokio::sync::Mutex;

pub const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(60);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// A JWKS is a few keys; anything much larger is not one.
const MAX_JWKS_BYTES: usize = 256 * 1024;

pub struct Jwks {
    url: hyper::Uri,
    refetch_every: Duration,
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    keys: RwLock<HashMap<String, DecodingKey>>,
    /// When the last fetch started; held across the fetch so that concurrent misses wait for
    /// one fetch instead of starting their own.
    last_fetch: Mutex<Option<Instant>>,
}

impl Jwks {
    /// `refetch_every` is [`REFETCH_AT_MOST_EVERY`] outside tests.
    pub fn new(url: &str, refetch_every: Duration) -> anyhow::Result<Jwks> {
        Jwks::with_ca_file(url, refetch_every, None)
    }

    /// As [`Jwks::new`], an https issuer also trusted when its certificate chains to one in
    /// `ca_file` (PEM).
    pub fn with_ca_file(
        url: &str,
        refetch_every: Duration,
        ca_file: Option<&Path>,
    ) -> anyhow::Result<Jwks> {
        let url: hyper::Uri = url.parse().context("OMS_JWT_JWKS_URL is not a URL")?;
        anyhow::ensure!(
            matches!(url.scheme_str(), Some("http" | "https")) && url.host().is_some(),
            "OMS_JWT_JWKS_URL must be an http:// or https:// URL"
        );
        let tls = tls_config(ca_file)?;
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Jwks {
            url,
            refetch_every,
            client: Client::builder(TokioExecutor::new()).build(connector),
            keys: RwLock::new(HashMap::new()),
            last_fetch: Mutex::new(None),
        })
    }

    /// The key for `kid`, fetching the set again when it is unknown and the last fetch is
    /// old enough.
    pub async fn key(&self, kid: &str) -> Option<DecodingKey> {
        if let Some(key) = self.cached(kid) {
            return Some(key);
        }
        let mut last = self.last_fetch.lock().await;
        // Another request may have fetched while this one waited.
        if let Some(key) = self.cached(kid) {
            return Some(key);
        }
        if last.is_some_and(|at| at.elapsed() < self.refetch_every) {
            return None;
        }
        *last = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
            }
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), url = %self.url, "fetching the JWKS failed");
            }
        }
        self.cached(kid)
    }

    fn cached(&self, kid: &str) -> Option<DecodingKey> {
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(kid)
            .cloned()
    }

    async fn fetch(&self) -> anyhow::Result<HashMap<String, DecodingKey>> {
        let response = tokio::time::timeout(FETCH_TIMEOUT, self.client.get(self.url.clone()))
            .await
            .context("the JWKS did not answer in time")??;
        anyhow::ensure!(
            response.status().is_success(),
            "the JWKS answered {}",
            response.status()
        );
        let body = tokio::time::timeout(
            FETCH_TIMEOUT,
            Limited::new(response.into_body(), MAX_JWKS_BYTES).collect(),
        )
        .await
        .context("the JWKS did not answer in time")?
        .map_err(|e| anyhow::anyhow!("reading the JWKS: {e}"))?
        .to_bytes();
        let set: JwkSet = serde_json::from_slice(&body).context("the JWKS is not a JWK set")?;
        Ok(set
            .keys
            .iter()
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                DecodingKey::from_jwk(jwk).ok().map(|key| (kid, key))
            })
            .collect())
    }
}

/// Mozilla's roots, and those of `ca_file`; ring as the crypto provider, named here rather than
/// installed process-wide.
fn tls_config(ca_file: Option<&Path>) -> anyhow::Result<rustls::ClientConfig> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = ca_file {
        let shown = path.display();
        let mut added = 0;
        for cert in CertificateDer::pem_file_iter(path)
            .with_context(|| format!("reading OMS_JWT_JWKS_CA_FILE {shown}"))?
        {
            let cert = cert.with_context(|| format!("OMS_JWT_JWKS_CA_FILE {shown}"))?;
            roots
                .add(cert)
                .with_context(|| format!("a certificate of OMS_JWT_JWKS_CA_FILE {shown}"))?;
            added += 1;
        }
        anyhow::ensure!(
            added > 0,
            "OMS_JWT_JWKS_CA_FILE {shown} holds no PEM certificate"
        );
    }
    // rustls deprecates ring's provider for lacking post-quantum key exchange, which guards
    // secrets recorded now against decryption later; a JWKS is public keys, and TLS here is
    // for their authenticity. ring builds without cmake, unlike aws-lc-rs.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS setup")?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
