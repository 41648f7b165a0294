//! The validity period of a certificate, read straight from its DER: a walk
//! of just the outer structure down to `tbsCertificate.validity`, so the
//! agent can warn at start and at each reload about a certificate that has
//! expired or is not valid yet, without an X.509 parsing crate.

use crate::clock::parse_rfc3339;

/// `notBefore` and `notAfter`, in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub not_before: i64,
    pub not_after: i64,
}

const SEQUENCE: u8 = 0x30;
const EXPLICIT_VERSION: u8 = 0xa0;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// The validity of DER certificate `der`; `None` when it is not well formed.
pub fn of(der: &[u8]) -> Option<Validity> {
    let (tag, cert, _) = tlv(der)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, mut tbs, _) = tlv(cert)?;
    if tag != SEQUENCE {
        return None;
    }
    if tbs.first() == Some(&EXPLICIT_VERSION) {
        tbs = tlv(tbs)?.2;
    }
    // serialNumber, signature algorithm, issuer: skipped.
    for _ in 0..3 {
        tbs = tlv(tbs)?.2;
    }
    let (tag, validity, _) = tlv(tbs)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, before, rest) = tlv(validity)?;
    let not_before = time(tag, before)?;
    let (tag, after, _) = tlv(rest)?;
    Some(Validity {
        not_before,
        not_after: time(tag, after)?,
    })
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

    fn cert(before: Vec<u8>, after: Vec<u8>) -> Vec<u8> {
        let validity = el(SEQUENCE, &[before, after].concat());
        let tbs = [
            el(EXPLICIT_VERSION, &el(0x02, &[2])),
            el(0x02, &[0x01, 0x02]),
            el(SEQUENCE, &[]),
            el(SEQUENCE, &[]),
            validity,
        ]
        .concat();
        el(SEQUENCE, &el(SEQUENCE, &tbs))
    }

    #[test]
    fn reads_utc_and_generalized_times() {
        let der = cert(
            el(UTC_TIME, b"991231235959Z"),
            el(GENERALIZED_TIME, b"20500101000000Z"),
        );
        assert_eq!(
            of(&der),
            Some(Validity {
                not_before: 946_684_799,
                not_after: 2_524_608_000
            })
        );
        let der = cert(
            el(UTC_TIME, b"240101000000Z"),
            el(UTC_TIME, b"490101000000Z"),
        );
        assert_eq!(of(&der).unwrap().not_before, 1_704_067_200);
    }

    #[test]
    fn malformed_input_is_none() {
        assert_eq!(of(b""), None);
        assert_eq!(of(&[0x30, 0x85, 0, 0, 0, 0, 1]), None);
        assert_eq!(of(&[0x30, 0x10, 0x30]), None);
        let bad_time = cert(
            el(UTC_TIME, b"99123123595Z"),
            el(UTC_TIME, b"991231235959Z"),
        );
        assert_eq!(of(&bad_time), None);
        let local = cert(
            el(UTC_TIME, b"991231235959+"),
            el(UTC_TIME, b"991231235959Z"),
        );
        assert_eq!(of(&local), None);
    }
}
