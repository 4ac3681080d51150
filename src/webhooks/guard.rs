//! Where deliveries may go. An endpoint URL is `http` or `https`, and every address its host
//! resolves to must be a public one: loopback, private, link-local, carrier-grade NAT, unique
//! local, multicast and unspecified addresses are refused, unless `allow_private`. The check runs
//! when an endpoint is saved and again inside the delivery client's resolver, at every
//! connection, so a name that later resolves elsewhere (DNS rebinding) is still refused.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The longest endpoint URL, in bytes.
pub const MAX_URL_BYTES: usize = 2048;

/// Whether a delivery may be sent to this address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // 100.64.0.0/10, carrier-grade NAT: inside a provider's network.
        || (a == 100 && (64..128).contains(&b)))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // fc00::/7 unique local, fe80::/10 link-local.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80)
}

/// Parses and checks an endpoint URL (resolving its host when it can); the reason when it is
/// refused.
pub async fn check_url(url: &str, allow_private: bool) -> Result<Url, String> {
    if url.len() > MAX_URL_BYTES {
        return Err(format!("must be at most {MAX_URL_BYTES} bytes"));
    }
    let parsed = Url::parse(url).map_err(|e| format!("is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("must be an http or https URL".to_string());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not carry credentials".to_string());
    }
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or("must name a host")?;
    if allow_private {
        return Ok(parsed);
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    // A name that does not resolve yet is saved: DNS may not know it yet, or not from here,
    // and every delivery checks the addresses again at connect time (and logs the failure).
    let Ok(addrs) = resolve(host, port).await else {
        return Ok(parsed);
    };
    match addrs.iter().find(|a| !is_public(a.ip())) {
        Some(addr) => Err(format!(
            "resolves to {}, a loopback, private or link-local address",
            addr.ip()
        )),
        None => Ok(parsed),
    }
}

/// The address of a URL whose host is an IP literal (which a client's resolver never sees),
/// when it is not public.
pub fn private_literal(url: &Url) -> Option<IpAddr> {
    let host = url.host_str()?;
    let ip: IpAddr = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()?;
    (!is_public(ip)).then_some(ip)
}

async fn resolve(host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
    if addrs.is_empty() {
        return Err(std::io::Error::other("no addresses"));
    }
    Ok(addrs)
}

/// The delivery client's resolver: the system's, refusing a name with any address that is not
/// public.
#[derive(Debug, Clone, Copy)]
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let addrs = resolve(name.as_str(), 0).await?;
            if let Some(addr) = addrs.iter().find(|a| !is_public(a.ip())) {
                let refused = format!(
                    "{} resolves to {}, a loopback, private or link-local address",
                    name.as_str(),
                    addr.ip()
                );
                return Err(refused.into());
            }
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_and_link_local_addresses_are_not_public() {
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(refused.parse().unwrap()), "{refused}");
        }
        for allowed in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "172.32.0.1"] {
            assert!(is_public(allowed.parse().unwrap()), "{allowed}");
        }
    }

    #[tokio::test]
    async fn urls_on_private_addresses_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:9/hook",
            "http://localhost/hook",
            "http://[::1]/hook",
            "https://169.254.169.254/latest/meta-data",
            "http://10.0.0.8/",
        ] {
            let refused = check_url(url, false).await.unwrap_err();
            assert!(refused.contains("private"), "{url}: {refused}");
            assert!(check_url(url, true).await.is_ok(), "{url}");
        }
    }

    #[tokio::test]
    async fn only_http_urls_without_credentials_are_taken() {
        for (url, why) in [
            ("ftp://example.com/x", "http or https"),
            ("not a url", "not a URL"),
            ("https://user:pw@example.com/", "credentials"),
        ] {
            let refused = check_url(url, true).await.unwrap_err();
            assert!(refused.contains(why), "{url}: {refused}");
        }
    }

    #[tokio::test]
    async fn the_delivery_resolver_refuses_names_of_private_addresses() {
        let name: Name = "localhost".parse().unwrap();
        let refused = PublicOnly.resolve(name).await.err().expect("refused");
        assert!(refused.to_string().contains("private"), "{refused}");
    }

    #[test]
    fn ip_literals_are_checked_without_a_resolver() {
        let url = Url::parse("http://127.0.0.1:8080/x").unwrap();
        assert!(private_literal(&url).is_some());
        let url = Url::parse("http://8.8.8.8/x").unwrap();
        assert!(private_literal(&url).is_none());
        let url = Url::parse("http://example.com/x").unwrap();
        assert!(private_literal(&url).is_none());
    }
}
