//! Which client a per-address limit counts.
//!
//! The address a host passes is text, and one client has many spellings of
//! it: `2001:DB8::1` and `2001:db8:0:0::1`, `::ffff:10.0.0.1` (an IPv4
//! client on a dual-stack socket) and `10.0.0.1`, `fe80::1%eth0` with its
//! zone. Worse, an IPv6 client is usually given a whole /64 and can rotate
//! through its addresses at will. So the key is the canonical address, and
//! for IPv6 the network of `rate_limit_ipv6_prefix` bits (64 by default).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// The default `rate_limit_ipv6_prefix`: the /64 an IPv6 client (a home
/// connection, a cloud instance) is usually given whole.
pub const DEFAULT_IPV6_PREFIX: u8 = 64;

/// The key per-address limits count `address` under.
///
/// - IPv4: the address in dotted form (`10.0.0.1`).
/// - IPv4-mapped IPv6 (`::ffff:10.0.0.1`): that IPv4 address.
/// - Other IPv6: the network of its first `ipv6_prefix` bits, as
///   `network/prefix` (`2001:db8::/64`). The zone (`%eth0`) is dropped, case
///   and spelling do not matter. `ipv6_prefix` is clamped to 1..=128.
/// - Brackets and a port (`[2001:db8::1]:443`, `10.0.0.1:8080`) are
///   dropped.
/// - Anything else (not an IP address): the text trimmed and lowercased.
///
/// ```
/// use doorward::ratelimit::client_key;
/// assert_eq!(client_key("2001:db8::1", 64), "2001:db8::/64");
/// assert_eq!(client_key("2001:DB8:0:0:ffff::2", 64), "2001:db8::/64");
/// assert_eq!(client_key("::ffff:10.0.0.1", 64), "10.0.0.1");
/// assert_eq!(client_key("fe80::1%eth0", 128), "fe80::1/128");
/// assert_eq!(client_key(" Proxy-Host ", 64), "proxy-host");
/// ```
pub fn client_key(address: &str, ipv6_prefix: u8) -> String {
    let text = address.trim();
    match parse(text) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let prefix = ipv6_prefix.clamp(1, 128);
                let mask = u128::MAX << (128 - u32::from(prefix));
                let network = Ipv6Addr::from(u128::from(v6) & mask);
                format!("{network}/{prefix}")
            }
        },
        None => text.to_lowercase(),
    }
}

/// An IP address in any of the forms hosts pass: bare, bracketed, with a
/// port, with an IPv6 zone.
fn parse(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = text.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    // `[addr]`, `[addr]:port`, each possibly with a zone inside.
    let inner = match text.strip_prefix('[') {
        Some(rest) => {
            let (inner, after) = rest.split_once(']')?;
            let port_ok = after.is_empty()
                || after
                    .strip_prefix(':')
                    .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
            if !port_ok {
                return None;
            }
            inner
        }
        None => text,
    };
    let without_zone = match inner.split_once('%') {
        Some((addr, zone)) if !zone.is_empty() => addr,
        _ => inner,
    };
    without_zone.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_and_its_mapped_form_are_one_client() {
        for spelling in [
            "10.0.0.1",
            " 10.0.0.1 ",
            "::ffff:10.0.0.1",
            "::FFFF:10.0.0.1",
            "::ffff:a00:1",
            "[::ffff:10.0.0.1]",
            "10.0.0.1:8080",
        ] {
            assert_eq!(client_key(spelling, 64), "10.0.0.1", "{spelling}");
        }
        assert_eq!(client_key("10.0.0.2", 64), "10.0.0.2");
    }

    #[test]
    fn ipv6_groups_by_prefix() {
        for spelling in [
            "2001:db8::1",
            "2001:DB8::2",
            "2001:0db8:0000:0000:ffff:ffff:ffff:ffff",
            "[2001:db8::3]",
            "[2001:db8::3]:443",
            "2001:db8::4%eth0",
            "[2001:db8::5%25eth0]:443",
        ] {
            assert_eq!(client_key(spelling, 64), "2001:db8::/64", "{spelling}");
        }
        assert_eq!(client_key("2001:db8:0:1::1", 64), "2001:db8:0:1::/64");
        assert_eq!(client_key("2001:db8:0:1::1", 48), "2001:db8::/48");
        assert_eq!(client_key("2001:db8::1", 128), "2001:db8::1/128");
        assert_eq!(client_key("2001:db8::1", 1), "::/1");
        assert_eq!(client_key("8001:db8::1", 1), "8000::/1");
        // Out of range prefixes are clamped rather than panicking.
        assert_eq!(client_key("2001:db8::1", 0), "::/1");
        assert_eq!(client_key("2001:db8::1", 200), "2001:db8::1/128");
        assert_eq!(client_key("::1", 64), "::/64");
    }

    #[test]
    fn other_text_is_trimmed_and_lowercased() {
        assert_eq!(client_key("  Unknown  ", 64), "unknown");
        assert_eq!(client_key("", 64), "");
        assert_eq!(client_key("[2001:db8::1]junk", 64), "[2001:db8::1]junk");
        assert_eq!(client_key("2001:db8::1%", 64), "2001:db8::1%");
        assert_eq!(client_key("999.1.1.1", 64), "999.1.1.1");
    }
}
