//! Who is the client? Resolves the address that rate limits and access logs
//! key on: the TCP peer, or — only when the peer is a trusted proxy listed in
//! `TRUSTED_PROXIES` — the right-most untrusted address of `X-Forwarded-For`.
//! Also holds the CIDR type those lists are written in, and the key that
//! per-client bounds (rate limits, connections, MCP sessions) count under,
//! and whether a host name only reaches this machine.

use hyper::header::HeaderMap;
use std::net::IpAddr;

/// An address block such as `10.0.0.0/8`, `::1/128` or a single address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `addr` or `addr/prefix`; `None` when malformed.
    pub fn parse(s: &str) -> Option<Cidr> {
        let (ip, prefix) = match s.split_once('/') {
            Some((ip, p)) => (ip.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return None;
        }
        // An IPv4-mapped block is written for IPv4 peers; peers are compared as IPv4.
        match (ip, canonical(ip)) {
            (IpAddr::V6(_), v4 @ IpAddr::V4(_)) if prefix >= 96 => Some(Cidr {
                addr: v4,
                prefix: prefix - 96,
            }),
            _ => Some(Cidr { addr: ip, prefix }),
        }
    }

    /// Whether `ip` lies in this block (IPv4-mapped IPv6 matches IPv4 blocks).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(net).into(), self.prefix, 32)
                    == masked(u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), self.prefix, 128)
                    == masked(u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn masked(bits: u128, prefix: u8, width: u32) -> u128 {
    if prefix == 0 {
        return 0;
    }
    bits >> (width - u32::from(prefix))
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) as plain IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The key per-client bounds count under: IPv4 addresses as they are, IPv6
/// by their /64 (one subscriber's allocation), so rotating addresses inside
/// it mints no fresh allowance.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        v4 => v4,
    }
}

/// The client address for a request from `peer` with these `headers`.
///
/// Only when `peer` is trusted is `X-Forwarded-For` read: every line, the
/// last one first, each right to left, skipping addresses that are
/// themselves trusted proxies: the first untrusted entry is the client.
/// Entries are parsed from the raw bytes one by one, so bytes that are not
/// text in one entry cannot hide the entries a proxy appended after it. A
/// malformed entry stops the walk at the last good hop, so a client cannot
/// spoof its way past the proxy that appended it.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let peer = canonical(peer);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let entries = headers
        .get_all(FORWARDED_FOR)
        .iter()
        .rev()
        .flat_map(|line| line.as_bytes().rsplit(|&b| b == b','));
    let mut client = peer;
    for entry in entries {
        let Some(ip) = parse_entry(entry) else {
            break;
        };
        client = canonical(ip);
        if !is_trusted(client) {
            break;
        }
    }
    client
}

const FORWARDED_FOR: &str = "x-forwarded-for";

/// One `X-Forwarded-For` entry: an address between optional blanks.
fn parse_entry(entry: &[u8]) -> Option<IpAddr> {
    std::str::from_utf8(entry).ok()?.trim().parse().ok()
}

/// Whether `host` (a name or an address, IPv6 bracketed or not) only
/// accepts connections from this machine.
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The host of an authority (`Host` header, `HOST` setting): without its
/// port, and an IPv6 address without its brackets.
pub fn host_name(authority: &str) -> &str {
    match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    }
}

#[cfg(test)]
mod tests;
