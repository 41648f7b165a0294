//! The fields of a certificate the agent reports, read straight from its
//! DER: version, serial number, issuer, validity, subject and the names of
//! the subjectAltName extension. A walk of just the structure they sit in,
//! without an X.509 parsing crate, for the warning about a served
//! certificate that has expired or is not valid yet, the log line of a
//! refused client certificate, and the check of a stored `TLS_AUTO`
//! certificate. Nothing here verifies anything: rustls does.

use crate::clock::parse_rfc3339;
use std::fmt::Write;
use std::net::IpAddr;

/// `notBefore` and `notAfter`, in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub not_before: i64,
    pub not_after: i64,
}

/// The fields of one certificate, borrowed from its DER.
#[derive(Debug, Clone, Copy)]
pub struct Certificate<'a> {
    /// 1, 2 or 3 (only v3 has extensions).
    pub version: u8,
    pub validity: Validity,
    serial: &'a [u8],
    issuer: &'a [u8],
    subject: &'a [u8],
    /// The contents of the `extensions` sequence, when there is one.
    extensions: Option<&'a [u8]>,
}

const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const EXPLICIT_VERSION: u8 = 0xa0;
const EXPLICIT_EXTENSIONS: u8 = 0xa3;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
/// The subjectAltName choices read: `dNSName` and `iPAddress`.
const DNS_NAME: u8 = 0x82;
const IP_ADDRESS: u8 = 0x87;
/// 2.5.29.17, subjectAltName.
const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
/// Characters of a rendered name past which it is cut (a log line stays short).
const MAX_NAME_CHARS: usize = 256;

/// Attribute types by their short names, as RFC 4514 and OpenSSL write them.
const ATTRIBUTES: &[(&[u8], &str)] = &[
    (&[0x55, 0x04, 0x03], "CN"),
    (&[0x55, 0x04, 0x05], "serialNumber"),
    (&[0x55, 0x04, 0x06], "C"),
    (&[0x55, 0x04, 0x07], "L"),
    (&[0x55, 0x04, 0x08], "ST"),
    (&[0x55, 0x04, 0x09], "STREET"),
    (&[0x55, 0x04, 0x0a], "O"),
    (&[0x55, 0x04, 0x0b], "OU"),
    (
        &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01],
        "UID",
    ),
    (
        &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19],
        "DC",
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01],
        "emailAddress",
    ),
];

/// Unix seconds `secs` as an RFC 3339 time (`2020-01-02T00:00:00.000Z`).
pub fn date(secs: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.max(0) as u64);
    crate::clock::format_rfc3339_millis(at)
}

/// The fields of DER certificate `der`; `None` when it is not well formed.
pub fn read(der: &[u8]) -> Option<Certificate<'_>> {
    let (cert, _) = expect(der, SEQUENCE)?;
    let (mut tbs, _) = expect(cert, SEQUENCE)?;
    let mut version = 1;
    if tbs.first() == Some(&EXPLICIT_VERSION) {
        let (_, inner, rest) = tlv(tbs)?;
        match expect(inner, INTEGER)?.0 {
            [v @ 0..=2] => version = v + 1,
            _ => return None,
        }
        tbs = rest;
    }
    let (serial, tbs) = expect(tbs, INTEGER)?;
    let (_signature_algorithm, tbs) = expect(tbs, SEQUENCE)?;
    let (issuer, tbs) = expect(tbs, SEQUENCE)?;
    let (validity, tbs) = expect(tbs, SEQUENCE)?;
    let (subject, tbs) = expect(tbs, SEQUENCE)?;
    let (_public_key, mut tbs) = expect(tbs, SEQUENCE)?;
    let mut extensions = None;
    while let Some((tag, body, rest)) = tlv(tbs) {
        if tag == EXPLICIT_EXTENSIONS {
            extensions = Some(expect(body, SEQUENCE)?.0);
        }
        tbs = rest;
    }
    let (tag, before, rest) = tlv(validity)?;
    let (tag_after, after, _) = tlv(rest)?;
    Some(Certificate {
        version,
        validity: Validity {
            not_before: time(tag, before)?,
            not_after: time(tag_after, after)?,
        },
        serial,
        issuer,
        subject,
        extensions,
    })
}

impl Certificate<'_> {
    /// The serial number in upper-case hex, as `openssl x509 -serial` shows it.
    pub fn serial(&self) -> String {
        let mut bytes = self.serial;
        while let [0, rest @ ..] = bytes
            && !rest.is_empty()
        {
            bytes = rest;
        }
        bytes.iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02X}");
            s
        })
    }

    /// The subject as an RFC 4514 string (`CN=client,O=Example`).
    pub fn subject(&self) -> String {
        name(self.subject)
    }

    /// The issuer as an RFC 4514 string.
    pub fn issuer(&self) -> String {
        name(self.issuer)
    }

    /// The DNS names and IP addresses of the subjectAltName extension, in
    /// its order (IP addresses as [`IpAddr`] writes them); empty without one.
    pub fn alt_names(&self) -> Vec<String> {
        let mut exts = self.extensions.unwrap_or_default();
        while let Some((ext, rest)) = expect(exts, SEQUENCE) {
            exts = rest;
            let Some((oid, mut value)) = expect(ext, OID) else {
                continue;
            };
            if oid != SUBJECT_ALT_NAME {
                continue;
            }
            if let Some((0x01, _, rest)) = tlv(value) {
                value = rest; // `critical`
            }
            let Some((mut names, _)) =
                expect(value, OCTET_STRING).and_then(|(v, _)| expect(v, SEQUENCE))
            else {
                return Vec::new();
            };
            let mut found = Vec::new();
            while let Some((tag, body, rest)) = tlv(names) {
                names = rest;
                found.extend(general_name(tag, body));
            }
            return found;
        }
        Vec::new()
    }
}

/// A `dNSName` or `iPAddress` of subjectAltName as text.
fn general_name(tag: u8, body: &[u8]) -> Option<String> {
    match tag {
        DNS_NAME => Some(String::from_utf8_lossy(body).into_owned()),
        IP_ADDRESS => {
            let ip = match body.len() {
                4 => IpAddr::from(<[u8; 4]>::try_from(body).ok()?),
                16 => IpAddr::from(<[u8; 16]>::try_from(body).ok()?),
                _ => return None,
            };
            Some(ip.to_string())
        }
        _ => None,
    }
}

/// `Name` as RFC 4514 writes it: the last RDN first, RDNs joined by `,`,
/// the attributes of one RDN by `+`; values of types other than strings
/// as `#` and their DER in hex; cut at [`MAX_NAME_CHARS`].
fn name(der: &[u8]) -> String {
    let mut rdns = Vec::new();
    let mut rest = der;
    while let Some((set, after)) = expect(rest, SET) {
        rest = after;
        let mut attributes = Vec::new();
        let mut inner = set;
        while let Some((pair, after)) = expect(inner, SEQUENCE) {
            inner = after;
            let Some((oid, value)) = expect(pair, OID) else {
                continue;
            };
            let kind = ATTRIBUTES
                .iter()
                .find(|(bytes, _)| *bytes == oid)
                .map_or_else(|| dotted(oid), |(_, short)| (*short).to_string());
            attributes.push(format!("{kind}={}", value_text(value)));
        }
        rdns.push(attributes.join("+"));
    }
    rdns.reverse();
    let full = rdns.join(",");
    match full.char_indices().nth(MAX_NAME_CHARS) {
        Some((cut, _)) => format!("{}…", &full[..cut]),
        None => full,
    }
}

/// An attribute value: a string escaped as RFC 4514 asks (and control
/// characters as `\XX`), anything else `#` and its DER in hex.
fn value_text(value: &[u8]) -> String {
    let Some((tag, body, _)) = tlv(value) else {
        return String::new();
    };
    let text: Option<String> = match tag {
        // UTF8String, PrintableString, IA5String
        0x0c | 0x13 | 0x16 => std::str::from_utf8(body).ok().map(str::to_string),
        // TeletexString, read as Latin-1
        0x14 => Some(body.iter().map(|&b| char::from(b)).collect()),
        // BMPString
        0x1e => {
            let units = body
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units).collect::<Result<_, _>>().ok()
        }
        _ => None,
    };
    let Some(text) = text else {
        return value.iter().fold(String::from("#"), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
    };
    let last = text.chars().count().saturating_sub(1);
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        let edge_space = c == ' ' && (i == 0 || i == last);
        if matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\')
            || edge_space
            || (c == '#' && i == 0)
        {
            out.push('\\');
            out.push(c);
        } else if c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "\\{b:02X}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// An object identifier in dotted form (`1.2.840.113549.1.9.1`).
fn dotted(oid: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut n: u64 = 0;
    for &b in oid {
        n = match n.checked_mul(128) {
            Some(v) => v | u64::from(b & 0x7f),
            None => return "?".into(),
        };
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (n / 40).min(2);
                arcs.extend([first, n - first * 40]);
            } else {
                arcs.push(n);
            }
            n = 0;
        }
    }
    let parts: Vec<String> = arcs.iter().map(u64::to_string).collect();
    parts.join(".")
}

/// The contents of the element at the start of `input` if its tag is
/// `tag`, and what follows it.
fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (found, body, rest) = tlv(input)?;
    (found == tag).then_some((body, rest))
}

/// One DER element: its tag, its contents and what follows it.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| acc << 8 | usize::from(b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// UTCTime (`YYMMDDHHMMSSZ`, years 1950–2049) or GeneralizedTime (`YYYYMMDDHHMMSSZ`).
fn time(tag: u8, value: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(value).ok()?;
    let full = match (tag, text.len()) {
        (UTC_TIME, 13) => {
            let century = if text[..2].parse::<u8>().ok()? < 50 {
                "20"
            } else {
                "19"
            };
            format!("{century}{text}")
        }
        (GENERALIZED_TIME, 15) => text.to_string(),
        _ => return None,
    };
    if !full.ends_with('Z') || !full[..14].bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let f = |r: std::ops::Range<usize>| &full[r];
    parse_rfc3339(&format!(
        "{}-{}-{}T{}:{}:{}Z",
        f(0..4),
        f(4..6),
        f(6..8),
        f(8..10),
        f(10..12),
        f(12..14)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DER element with a short-form length.
    fn el(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![tag, body.len() as u8];
        v.extend_from_slice(body);
        v
    }

    /// A certificate skeleton: `version` (`None`: v1), an empty issuer and
    /// subject, the validity times given, and no key.
    fn cert(version: Option<u8>, before: Vec<u8>, after: Vec<u8>) -> Vec<u8> {
        let validity = el(SEQUENCE, &[before, after].concat());
        let tbs = [
            version.map_or_else(Vec::new, |v| el(EXPLICIT_VERSION, &el(INTEGER, &[v]))),
            el(INTEGER, &[0x00, 0x81]),
            el(SEQUENCE, &[]),
            el(SEQUENCE, &[]),
            validity,
            el(SEQUENCE, &[]),
            el(SEQUENCE, &[]),
        ]
        .concat();
        el(SEQUENCE, &el(SEQUENCE, &tbs))
    }

    fn validity(der: &[u8]) -> Option<Validity> {
        read(der).map(|c| c.validity)
    }

    #[test]
    fn reads_utc_and_generalized_times() {
        let der = cert(
            Some(2),
            el(UTC_TIME, b"991231235959Z"),
            el(GENERALIZED_TIME, b"20500101000000Z"),
        );
        assert_eq!(
            validity(&der),
            Some(Validity {
                not_before: 946_684_799,
                not_after: 2_524_608_000
            })
        );
        let der = cert(
            Some(2),
            el(UTC_TIME, b"240101000000Z"),
            el(UTC_TIME, b"490101000000Z"),
        );
        assert_eq!(validity(&der).unwrap().not_before, 1_704_067_200);
    }

    #[test]
    fn malformed_input_is_none() {
        assert!(read(b"").is_none());
        assert!(read(&[0x30, 0x85, 0, 0, 0, 0, 1]).is_none());
        assert!(read(&[0x30, 0x10, 0x30]).is_none());
        let t = |s: &[u8]| el(UTC_TIME, s);
        assert!(read(&cert(Some(2), t(b"99123123595Z"), t(b"991231235959Z"))).is_none());
        assert!(read(&cert(Some(2), t(b"991231235959+"), t(b"991231235959Z"))).is_none());
        assert!(read(&cert(Some(7), t(b"991231235959Z"), t(b"991231235959Z"))).is_none());
    }

    #[test]
    fn a_certificate_without_a_version_field_is_v1() {
        let t = |s: &[u8]| el(UTC_TIME, s);
        let v1 = cert(None, t(b"991231235959Z"), t(b"991231235959Z"));
        let c = read(&v1).unwrap();
        assert_eq!((c.version, c.serial().as_str()), (1, "81"));
        assert_eq!((c.subject(), c.alt_names()), (String::new(), vec![]));
        let v3 = cert(Some(2), t(b"991231235959Z"), t(b"991231235959Z"));
        assert_eq!(read(&v3).unwrap().version, 3);
    }

    #[test]
    fn names_serial_and_alt_names_of_a_real_certificate() {
        use rcgen::{DnType, KeyPair, SerialNumber};
        let names = vec!["agent.example".into(), "10.1.2.3".into(), "::1".into()];
        let mut params = rcgen::CertificateParams::new(names).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CountryName, "DE");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Ex, Inc. +\"<x>\" #1");
        params
            .distinguished_name
            .push(DnType::CommonName, " two\nlines ");
        params.serial_number = Some(SerialNumber::from_slice(&[0x0a, 0xbc]));
        let cert = params.self_signed(&KeyPair::generate().unwrap()).unwrap();
        let c = read(cert.der()).unwrap();
        assert_eq!(c.version, 3);
        assert_eq!(c.serial(), "0ABC");
        let expected = r#"CN=\ two\0Alines\ ,O=Ex\, Inc. \+\"\<x\>\" #1,C=DE"#;
        assert_eq!(c.subject(), expected);
        assert_eq!(c.issuer(), expected);
        assert_eq!(c.alt_names(), ["agent.example", "10.1.2.3", "::1"]);
    }

    #[test]
    fn other_attribute_types_and_values_are_written_as_rfc_4514_says() {
        assert_eq!(
            dotted(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01]),
            "1.2.840.113549.1.9.1"
        );
        assert_eq!(dotted(&[0x88, 0x37, 0x03]), "2.999.3");
        let pair =
            |oid: &[u8], value: Vec<u8>| el(SET, &el(SEQUENCE, &[el(OID, oid), value].concat()));
        let der = [
            pair(&[0x2b, 0x06, 0x01], el(INTEGER, &[5])),
            pair(&[0x55, 0x04, 0x03], el(0x1e, &[0x00, 0x41, 0x00, 0xe9])),
        ]
        .concat();
        assert_eq!(name(&der), "CN=Aé,1.3.6.1=#020105");
        let long = pair(&[0x55, 0x04, 0x03], el(0x0c, "x".repeat(100).as_bytes()));
        let cut = name(&long.repeat(3));
        assert_eq!(cut.chars().count(), MAX_NAME_CHARS + 1);
        assert!(cut.ends_with('…'));
    }
}
