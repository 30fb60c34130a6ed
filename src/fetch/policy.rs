//! Every rule about which URLs loa may fetch, in one place (SSRF defence).
//!
//! * Only `http` and `https`, no credentials in the URL.
//! * The server fetches only origins on the allowlist (`[sources] allow`,
//!   `LOA_SOURCES_ALLOW`): origins (`https://baolangson.vn`), hosts
//!   (`baolangson.vn`) or host patterns (`*.langson.gov.vn`, subdomains
//!   only). The CLI may fetch any public address.
//! * Addresses that are not public — loopback, private, link-local, CGNAT,
//!   multicast, unspecified, reserved, documentation, and IPv4-mapped,
//!   NAT64 and 6to4 forms of them — are refused, unless the URL's host is
//!   that address written out and an allowlist entry names it
//!   (`http://127.0.0.1:8080`). A domain name is never let through to
//!   such an address. IPv4 in decimal, octal or hex (`http://2130706433/`,
//!   `http://0x7f.1/`) is parsed as browsers parse it (WHATWG URL) and
//!   judged by its value.
//! * Names are resolved by [`SafeResolver`], which drops refused
//!   addresses, and the connection goes to an address it returned: no
//!   second lookup can rebind the name. Every redirect is checked again.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Why a URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{0} is not an http(s) URL")]
    Scheme(String),
    #[error("URLs with a user name or password are not fetched")]
    Credentials,
    #[error("{0} is not a valid URL")]
    BadUrl(String),
    #[error("{origin} is not on the allowlist ([sources] allow or LOA_SOURCES_ALLOW)")]
    NotAllowed { origin: String },
    #[error(
        "{host} is a {kind} address ({ip}); only public addresses are fetched unless the allowlist names it"
    )]
    Address { host: String, ip: IpAddr, kind: &'static str },
    #[error("{host} resolves only to addresses that are not public ({addrs})")]
    Resolved { host: String, addrs: String },
}

/// One allowlist entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// `scheme://host[:port]`
    Origin { scheme: String, host: String, port: u16 },
    /// `host`: any scheme and port.
    Host(String),
    /// `*.suffix`: any subdomain of suffix.
    Suffix(String),
}

/// The allowlist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowlist {
    entries: Vec<Entry>,
}

fn host_string(h: &Host<&str>) -> String {
    match h {
        Host::Domain(d) => d.trim_end_matches('.').to_ascii_lowercase(),
        Host::Ipv4(ip) => ip.to_string(),
        Host::Ipv6(ip) => ip.to_string(),
    }
}

impl Allowlist {
    /// Parse entries (origins, hosts, `*.suffix` patterns); a bad one is an
    /// error naming it.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Allowlist, String> {
        let mut entries = Vec::new();
        for item in items {
            let s = item.as_ref().trim();
            if s.is_empty() {
                continue;
            }
            if let Some(suffix) = s.strip_prefix("*.") {
                if suffix.is_empty() || suffix.contains(['/', ':', '*']) {
                    return Err(format!("bad allowlist entry {s:?}: expected *.example.vn"));
                }
                entries.push(Entry::Suffix(suffix.trim_end_matches('.').to_ascii_lowercase()));
            } else if s.contains("://") {
                let u = Url::parse(s).map_err(|e| format!("bad allowlist entry {s:?}: {e}"))?;
                if !matches!(u.scheme(), "http" | "https") || u.path().len() > 1 || u.query().is_some() {
                    return Err(format!(
                        "bad allowlist entry {s:?}: expected an origin such as https://example.vn"
                    ));
                }
                let host =
                    u.host().map(|h| host_string(&h)).ok_or_else(|| format!("bad allowlist entry {s:?}"))?;
                let port = u.port_or_known_default().unwrap_or(80);
                entries.push(Entry::Origin { scheme: u.scheme().to_string(), host, port });
            } else {
                // A bare host (or IP); parse it as the host of a URL.
                let u = Url::parse(&format!("http://{s}/"))
                    .map_err(|e| format!("bad allowlist entry {s:?}: {e}"))?;
                if u.port().is_some() || u.path() != "/" {
                    return Err(format!(
                        "bad allowlist entry {s:?}: give an origin (http://host:port) to name a port"
                    ));
                }
                let host =
                    u.host().map(|h| host_string(&h)).ok_or_else(|| format!("bad allowlist entry {s:?}"))?;
                entries.push(Entry::Host(host));
            }
        }
        Ok(Allowlist { entries })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Does an entry cover this URL's origin?
    pub fn allows(&self, url: &Url) -> bool {
        let Some(host) = url.host().map(|h| host_string(&h)) else { return false };
        let port = url.port_or_known_default().unwrap_or(0);
        self.entries.iter().any(|e| match e {
            Entry::Origin { scheme, host: h, port: p } => scheme == url.scheme() && *h == host && *p == port,
            Entry::Host(h) => *h == host,
            Entry::Suffix(s) => {
                host.len() > s.len()
                    && host.ends_with(s.as_str())
                    && host[..host.len() - s.len()].ends_with('.')
            }
        })
    }
}

/// What kind of address `ip` is, or `None` when it is public.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_unspecified() => "unspecified",
        (0, ..) => "\"this network\"",
        (127, ..) => "loopback",
        (10, ..) | (172, 16..=31, _) | (192, 168, _) => "private",
        (100, 64..=127, _) => "shared (CGNAT)",
        (169, 254, _) => "link-local",
        (192, 0, 0) => "IETF protocol",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking",
        (192, 88, 99) => "6to4 relay",
        (224..=239, ..) => "multicast",
        (240..=255, ..) => "reserved",
        _ => return None,
    })
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return non_public_v4(v4).map(|_| "IPv4-mapped non-public");
    }
    let s = ip.segments();
    Some(match s {
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_loopback() => "loopback",
        [0, 0, 0, 0, 0, 0, _, _] => "IPv4-compatible",
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo]
            if non_public_v4(Ipv4Addr::from(((hi as u32) << 16) | lo as u32)).is_some() =>
        {
            "NAT64 non-public"
        }
        [0x64, 0xff9b, 1, ..] => "local-use NAT64",
        [0x2002, hi, lo, ..] if non_public_v4(Ipv4Addr::from(((hi as u32) << 16) | lo as u32)).is_some() => {
            "6to4 non-public"
        }
        [0x2001, 0xdb8, ..] => "documentation",
        [0x2001, 0..=0x1ff, ..] => "IETF protocol",
        [x, ..] if x & 0xfe00 == 0xfc00 => "unique local (private)",
        [x, ..] if x & 0xffc0 == 0xfe80 => "link-local",
        [x, ..] if x & 0xffc0 == 0xfec0 => "site-local",
        [x, ..] if x & 0xff00 == 0xff00 => "multicast",
        [0x100, 0, 0, 0, ..] => "discard",
        _ => return None,
    })
}

/// The fetch policy: who may be fetched.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub allow: Allowlist,
    /// Only allowlisted origins (the server); else any public address (the CLI).
    pub allowlisted_only: bool,
}

impl Policy {
    /// Check a URL before any request to it (the first and every redirect).
    pub fn check(&self, raw: &str) -> Result<Url, Refusal> {
        let url = Url::parse(raw.trim()).map_err(|e| Refusal::BadUrl(format!("{raw:?} ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refusal::Scheme(raw.to_string()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refusal::Credentials);
        }
        let host = url.host().ok_or_else(|| Refusal::BadUrl(raw.to_string()))?;
        let allowed = self.allow.allows(&url);
        if self.allowlisted_only && !allowed {
            return Err(Refusal::NotAllowed { origin: url.origin().ascii_serialization() });
        }
        let ip = match host {
            Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
            Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
            Host::Domain(_) => None,
        };
        if let Some(ip) = ip
            && let Some(kind) = non_public(ip)
        {
            // Only an entry that names this very address (not a host pattern) lets it through.
            let named = self.allow.entries.iter().any(|e| match e {
                Entry::Origin { host, .. } | Entry::Host(host) => host.parse::<IpAddr>().ok() == Some(ip),
                Entry::Suffix(_) => false,
            });
            if !(allowed && named) {
                return Err(Refusal::Address { host: host_string(&host), ip, kind });
            }
        }
        Ok(url)
    }
}

/// The resolver the HTTP client connects through: public addresses only.
#[derive(Debug, Clone, Default)]
pub struct SafeResolver;

impl Resolve for SafeResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> =
                all.iter().copied().filter(|a| non_public(a.ip()).is_none()).collect();
            if public.is_empty() {
                let addrs = all.iter().map(|a| a.ip().to_string()).collect::<Vec<_>>().join(", ");
                let err: Box<dyn std::error::Error + Send + Sync> =
                    Box::new(Refusal::Resolved { host, addrs });
                return Err(err);
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// The resolver as reqwest takes it.
pub fn resolver() -> Arc<SafeResolver> {
    Arc::new(SafeResolver)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(allow: &[&str]) -> Policy {
        Policy { allow: Allowlist::parse(allow).unwrap(), allowlisted_only: false }
    }

    #[test]
    fn non_public_addresses_in_every_spelling_are_refused() {
        let p = cli(&[]);
        for url in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://0x7f.1/",
            "http://127.1/",
            "http://0/",
            "http://0.0.0.0:8080/",
            "http://[::1]/",
            "http://[::]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[::ffff:10.0.0.1]/",
            "http://[64:ff9b::a00:1]/",
            "http://[2002:c0a8:101::]/",
            "http://[fe80::1]/",
            "http://[fd00::1]/",
            "http://[ff02::1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://172.31.255.255/",
            "http://192.168.1.1/",
            "http://100.64.0.1/",
            "http://224.0.0.1/",
            "http://239.255.255.250/",
            "http://255.255.255.255/",
            "http://198.18.0.1/",
        ] {
            assert!(matches!(p.check(url), Err(Refusal::Address { .. })), "{url}: {:?}", p.check(url));
        }
        for url in [
            "http://8.8.8.8/",
            "https://[2001:4860:4860::8888]/",
            "http://172.32.0.1/",
            "https://baolangson.vn/a",
        ] {
            assert!(p.check(url).is_ok(), "{url}");
        }
    }

    #[test]
    fn schemes_credentials_and_the_allowlist() {
        let p = cli(&[]);
        for url in
            ["file:///etc/passwd", "ftp://a.vn/", "gopher://a.vn/", "javascript:alert(1)", "data:text/html,x"]
        {
            assert!(matches!(p.check(url), Err(Refusal::Scheme(_) | Refusal::BadUrl(_))), "{url}");
        }
        assert_eq!(p.check("http://u:p@a.vn/"), Err(Refusal::Credentials));
        let server = Policy {
            allow: Allowlist::parse(&["https://baolangson.vn", "*.langson.gov.vn"]).unwrap(),
            allowlisted_only: true,
        };
        assert!(server.check("https://baolangson.vn/tin/1.html").is_ok());
        assert!(server.check("https://vanlang.langson.gov.vn/x").is_ok());
        assert!(
            matches!(server.check("http://baolangson.vn/"), Err(Refusal::NotAllowed { .. })),
            "scheme is part of an origin"
        );
        assert!(matches!(
            server.check("https://langson.gov.vn.evil.example/"),
            Err(Refusal::NotAllowed { .. })
        ));
        assert!(matches!(server.check("https://evillangson.gov.vn/"), Err(Refusal::NotAllowed { .. })));
        assert!(matches!(server.check("https://example.com/"), Err(Refusal::NotAllowed { .. })));
    }

    #[test]
    fn a_private_address_passes_only_when_named_with_its_origin() {
        let p = cli(&["http://127.0.0.1:8080", "*.internal.vn"]);
        assert!(p.check("http://127.0.0.1:8080/a").is_ok());
        assert!(matches!(p.check("http://127.0.0.1:9090/a"), Err(Refusal::Address { .. })));
        assert!(p.check("http://2130706433:8080/a").is_ok(), "the same address, spelled in decimal");
        let q = cli(&["10.0.0.5"]);
        assert!(q.check("http://10.0.0.5:81/").is_ok());
        assert!(matches!(q.check("http://10.0.0.6/"), Err(Refusal::Address { .. })));
        for bad in ["ftp://a.vn", "*.", "https://a.vn/path", "a.vn:8080"] {
            assert!(Allowlist::parse(&[bad]).is_err(), "{bad}");
        }
    }
}
