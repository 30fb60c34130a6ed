//! Who is asking: the key every per-client limit and budget counts by.
//!
//! The client is the peer's IP address, except when the peer is one of
//! `server.trusted_proxies` (CIDRs): then it is the first hop of the
//! proxy's header (`X-Forwarded-For`, or `Forwarded` when
//! `server.forwarded_header = "forwarded"`), read from the right, that is
//! not itself a trusted proxy. Addresses a client writes into the header
//! sit to the left of what its proxy appended, so they are never reached
//! while the proxy's own entry is valid. IPv6 clients are counted by their
//! /64 network (one household or server gets one), IPv4 clients by address.
//!
//! [`identify`] is the middleware that works this out once per request
//! and stores a [`Client`] in its extensions; handlers take it as an
//! extractor. Requests without a peer address (driven through `app()` in
//! tests) are one client, `local`.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;

use super::AppState;
use crate::config::ForwardedHeader;

/// The key of one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Client {
    /// An IPv4 address or an IPv6 /64 network.
    Ip(IpAddr),
    /// A request that came without a peer address (in-process).
    Local,
}

impl Client {
    /// The client at `ip`: IPv4 (and IPv4-mapped IPv6) as is, IPv6 by /64.
    pub fn from_ip(ip: IpAddr) -> Client {
        match ip {
            IpAddr::V4(_) => Client::Ip(ip),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Client::Ip(IpAddr::V4(v4)),
                None => {
                    let s = v6.segments();
                    Client::Ip(IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0)))
                }
            },
        }
    }
}

impl fmt::Display for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Client::Ip(IpAddr::V6(v6)) => write!(f, "{v6}/64"),
            Client::Ip(ip) => write!(f, "{ip}"),
            Client::Local => f.write_str("local"),
        }
    }
}

/// The proxies whose forwarding header is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    /// Parse `server.trusted_proxies`; a bare address is a /32 (or /128).
    pub fn parse<S: AsRef<str>>(items: &[S], header: ForwardedHeader) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for item in items {
            let s = item.as_ref().trim();
            let net = match s.parse::<IpNet>() {
                Ok(n) => n,
                Err(_) => match s.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(ip),
                    Err(_) => {
                        return Err(format!(
                            "server.trusted_proxies: {s:?} is not an address or a CIDR such as 10.0.0.0/8"
                        ));
                    }
                },
            };
            nets.push(net);
        }
        Ok(TrustedProxies { nets, header })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = unmap(ip);
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// The client of a request from `peer` with `headers`.
    pub fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Client {
        let Some(peer) = peer else { return Client::Local };
        if !self.contains(peer) {
            return Client::from_ip(peer);
        }
        let hops = match self.header {
            ForwardedHeader::XForwardedFor => x_forwarded_for(headers),
            ForwardedHeader::Forwarded => forwarded(headers),
        };
        // From the right: the entries our proxies appended, then the client.
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = hop else { break };
            client = *ip;
            if !self.contains(*ip) {
                break;
            }
        }
        Client::from_ip(client)
    }
}

fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:80`; `None` for anything else
/// (`unknown`, obfuscated names).
fn parse_hop(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(unmap(ip));
    }
    if let Ok(sa) = s.parse::<std::net::SocketAddr>() {
        return Some(unmap(sa.ip()));
    }
    let inner = s.strip_prefix('[').and_then(|r| r.split(']').next())?;
    inner.parse::<IpAddr>().ok().map(unmap)
}

/// Every hop of every `X-Forwarded-For` header, in order.
fn x_forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| match v.to_str() {
            Ok(s) => s.split(',').map(parse_hop).collect::<Vec<_>>(),
            Err(_) => vec![None],
        })
        .collect()
}

/// The `for=` of every element of every `Forwarded` header (RFC 7239), in
/// order; an element without one is an unknown hop.
fn forwarded(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("forwarded")
        .iter()
        .flat_map(|v| match v.to_str() {
            Ok(s) => s
                .split(',')
                .map(|element| {
                    element.split(';').find_map(|pair| {
                        let (k, v) = pair.split_once('=')?;
                        k.trim().eq_ignore_ascii_case("for").then(|| parse_hop(v)).flatten()
                    })
                })
                .collect::<Vec<_>>(),
            Err(_) => vec![None],
        })
        .collect()
}

/// Middleware: works out the [`Client`] of the request, stores it in the
/// request's extensions and applies the per-client request limit (the
/// cheap one that cached answers count against).
pub async fn identify(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let peer = super::listen::peer(&request).map(|a| a.ip());
    let client = state.inner().proxies.client(peer, request.headers());
    request.extensions_mut().insert(client);
    if request.uri().path() != "/healthz"
        && let Err(e) = state.inner().rates.check_request(client)
    {
        return e.into_response();
    }
    next.run(request).await
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Client, Self::Rejection> {
        Ok(parts.extensions.get::<Client>().copied().unwrap_or(Client::Local))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn header_is_read_only_from_trusted_peers() {
        let t = TrustedProxies::parse(&["10.0.0.0/8", "192.0.2.1"], ForwardedHeader::XForwardedFor).unwrap();
        let h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(t.client(Some(ip("203.0.113.5")), &h), Client::Ip(ip("203.0.113.5")));
        assert_eq!(t.client(Some(ip("10.1.2.3")), &h), Client::Ip(ip("198.51.100.7")));
        assert_eq!(t.client(Some(ip("192.0.2.1")), &h), Client::Ip(ip("198.51.100.7")));
        assert_eq!(t.client(None, &h), Client::Local);
    }

    #[test]
    fn first_untrusted_hop_from_the_right() {
        let t = TrustedProxies::parse(&["10.0.0.0/8"], ForwardedHeader::XForwardedFor).unwrap();
        // The client forged the first entry; the proxies appended the rest.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 198.51.100.7"), ("x-forwarded-for", "10.0.0.2")]);
        assert_eq!(t.client(Some(ip("10.0.0.1")), &h), Client::Ip(ip("198.51.100.7")));
        // All hops trusted: the leftmost.
        let h = headers(&[("x-forwarded-for", "10.0.0.9, 10.0.0.2")]);
        assert_eq!(t.client(Some(ip("10.0.0.1")), &h), Client::Ip(ip("10.0.0.9")));
        // A hop that is not an address stops the walk at the last known one.
        let h = headers(&[("x-forwarded-for", "198.51.100.7, unknown, 10.0.0.2")]);
        assert_eq!(t.client(Some(ip("10.0.0.1")), &h), Client::Ip(ip("10.0.0.2")));
        // No header: the proxy itself.
        assert_eq!(t.client(Some(ip("10.0.0.1")), &HeaderMap::new()), Client::Ip(ip("10.0.0.1")));
        // Ports and brackets.
        let h = headers(&[("x-forwarded-for", "[2001:db8:1:2::5]:443")]);
        assert_eq!(t.client(Some(ip("10.0.0.1")), &h), Client::Ip(ip("2001:db8:1:2::")));
        let h = headers(&[("x-forwarded-for", "198.51.100.7:5555")]);
        assert_eq!(t.client(Some(ip("10.0.0.1")), &h), Client::Ip(ip("198.51.100.7")));
    }

    #[test]
    fn forwarded_header() {
        let t = TrustedProxies::parse(&["10.0.0.0/8"], ForwardedHeader::Forwarded).unwrap();
        let h = headers(&[
            ("forwarded", "for=1.1.1.1, For=\"[2001:db8::1]:4711\";proto=https"),
            ("forwarded", "for=10.0.0.3;by=10.0.0.1"),
            ("x-forwarded-for", "9.9.9.9"),
        ]);
        assert_eq!(t.client(Some(ip("10.0.0.1")), &h), Client::Ip(ip("2001:db8::")));
        let h = headers(&[("forwarded", "for=_hidden, for=198.51.100.7")]);
        assert_eq!(t.client(Some(ip("10.0.0.1")), &h), Client::Ip(ip("198.51.100.7")));
    }

    #[test]
    fn ipv6_by_network_and_mapped_ipv4_as_ipv4() {
        assert_eq!(Client::from_ip(ip("2001:db8:a:b:1:2:3:4")), Client::from_ip(ip("2001:db8:a:b::9")));
        assert_ne!(Client::from_ip(ip("2001:db8:a:b::1")), Client::from_ip(ip("2001:db8:a:c::1")));
        assert_eq!(Client::from_ip(ip("::ffff:192.0.2.4")), Client::Ip(ip("192.0.2.4")));
        assert_eq!(Client::from_ip(ip("2001:db8:a:b::1")).to_string(), "2001:db8:a:b::/64");
        let t = TrustedProxies::parse(&["127.0.0.1/32"], ForwardedHeader::XForwardedFor).unwrap();
        assert!(t.contains(ip("::ffff:127.0.0.1")));
    }

    #[test]
    fn bad_cidr_is_an_error() {
        let e = TrustedProxies::parse(&["10.0.0.0/33"], ForwardedHeader::XForwardedFor).unwrap_err();
        assert!(e.contains("10.0.0.0/33"), "{e}");
    }
}
