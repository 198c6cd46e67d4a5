//! Where webhooks may point. A webhook URL is input (an admin console, a
//! tenant's settings page), and the server that sends to it sits inside
//! the host's network: without a check, a URL could reach cloud metadata
//! (`169.254.169.254`), admin ports on loopback or other internal services,
//! and `webhooks().test` would report which of them answer.
//!
//! Unless `webhook_allow_private` is set, only public addresses are
//! accepted, checked twice:
//!
//! - at `webhooks().add`, for IP-literal URLs (however the URL spells the
//!   address: `2130706433`, `[::ffff:127.0.0.1]`) and for `localhost`
//!   names, which always mean this host (RFC 6761). Other names are not
//!   resolved there: the answer could change before any delivery, and
//!   adding a webhook should not depend on DNS;
//! - at every connection, queued or `test`: IP literals in
//!   [`check_literal`] (reqwest does not resolve them), names through
//!   [`PublicResolver`], the delivery client's resolver. The addresses it
//!   returns are the ones connected to, so a name that resolves to a
//!   public address when checked and to a private one when connecting (DNS
//!   rebinding) cannot slip between the two.
//!
//! The delivery client uses no HTTP proxy: a proxy would resolve and
//! connect in its place, out of reach of the check.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::Host;

use crate::error::{Error, Result};

/// What a refused delivery reports (`last_error`, `WebhookTest::error`).
pub(crate) const NOT_ALLOWED: &str = "address not allowed";

/// Refuse a webhook URL whose host is a non-public address or a
/// `localhost` name; other names are checked when delivering.
pub(crate) fn check_url(url: &url::Url, allow_private: bool) -> Result<()> {
    if allow_private {
        return Ok(());
    }
    let refused = match url.host() {
        Some(Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
        Some(Host::Domain(name)) => is_localhost(name),
        None => true,
    };
    if refused {
        return Err(Error::validation(
            "url",
            "points at a private, loopback or other non-public address (see webhook_allow_private)",
        ));
    }
    Ok(())
}

/// Refuse to send to an IP-literal URL with a non-public address: the
/// resolver never sees those.
pub(crate) fn check_literal(url: &str, allow_private: bool) -> std::result::Result<(), String> {
    if allow_private {
        return Ok(());
    }
    let parsed = url::Url::parse(url).map_err(|_| "not a URL".to_string())?;
    let public = match parsed.host() {
        Some(Host::Ipv4(ip)) => is_public(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => is_public(IpAddr::V6(ip)),
        Some(Host::Domain(_)) => true,
        None => false,
    };
    if public {
        Ok(())
    } else {
        Err(NOT_ALLOWED.into())
    }
}

/// `localhost` and names under it, which RFC 6761 §6.3 reserves for
/// loopback.
fn is_localhost(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// Whether `ip` is a globally reachable unicast address: not loopback,
/// private, shared (CGNAT), link-local, multicast, broadcast, reserved or
/// documentation space (the IANA special-purpose registries), looking
/// through IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4).
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => v4_is_public(ip),
        IpAddr::V6(ip) => v6_is_public(ip),
    }
}

fn v4_is_public(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let special = a == 0 // "this network", 0.0.0.0 included
        || a == 10
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || a == 127
        || (a == 169 && b == 254) // link-local: cloud metadata lives here
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && (c == 0 || c == 2)) // protocol assignments, TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224; // multicast, reserved, broadcast
    !special
}

fn v6_is_public(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        // IPv4-mapped: the socket connects to the IPv4 address.
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => v4_is_public(embedded(hi, lo)),
        // NAT64 well-known prefix: a gateway connects to the IPv4 address.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => v4_is_public(embedded(hi, lo)),
        // 6to4: relayed to the IPv4 address in bits 16..48.
        [0x2002, hi, lo, ..] => v4_is_public(embedded(hi, lo)),
        // IETF protocol assignments (Teredo, ORCHID, ...) and documentation.
        [0x2001, b, ..] if b < 0x200 || b == 0xdb8 => false,
        [0x3fff, b, ..] if b < 0x1000 => false,
        // Global unicast is 2000::/3; everything else (::, ::1,
        // IPv4-compatible, fc00::/7, fe80::/10, ff00::/8, ...) is not.
        [first, ..] => first & 0xe000 == 0x2000,
    }
}

/// The webhook client's resolver: the system's answer (through tokio)
/// with every non-public address dropped, and an error when none is left.
#[derive(Debug)]
pub(crate) struct PublicResolver;

/// The resolver's refusal, recognised in the error chain so the delivery
/// reports [`NOT_ALLOWED`] rather than a vague connection failure.
#[derive(Debug)]
pub(crate) struct NotPublic;

impl std::fmt::Display for NotPublic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(NOT_ALLOWED)
    }
}

impl std::error::Error for NotPublic {}

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let public: Vec<SocketAddr> = found.filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(Box::new(NotPublic) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Whether a request failed because the resolver refused every address.
pub(crate) fn refused_by_resolver(error: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<NotPublic>() {
            return true;
        }
        source = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_ipv4_addresses_are_judged_as_ipv4() {
        let public = |s: &str| is_public(s.parse().unwrap());
        for refused in [
            "::ffff:127.0.0.1",
            "::ffff:192.168.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:0a00:0001::",
            "::127.0.0.1",
            "::",
            "::1",
            "fe80::1",
            "fd00::1",
            "ff0e::1",
            "2001::1",
            "2001:db8::1",
            "3fff::1",
            "fec0::1",
        ] {
            assert!(!public(refused), "{refused}");
        }
        for accepted in [
            "::ffff:93.184.216.34",
            "64:ff9b::5db8:d822",
            "2002:5db8:d822::1",
            "2606:4700::1111",
            "2a00:1450:4001::1",
            "93.184.216.34",
            "1.1.1.1",
        ] {
            assert!(public(accepted), "{accepted}");
        }
    }

    #[test]
    fn localhost_names_are_loopback_whatever_their_case() {
        for name in ["localhost", "LocalHost.", "a.b.localhost", "x.localhost."] {
            assert!(is_localhost(name), "{name}");
        }
        for name in ["localhost.example.com", "notlocalhost", "example.com"] {
            assert!(!is_localhost(name), "{name}");
        }
    }
}
