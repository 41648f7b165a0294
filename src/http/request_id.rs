//! Request ids: a sane incoming `X-Request-ID` (1–128 characters of
//! `[A-Za-z0-9._:-]`) is kept so ids follow a request across services;
//! anything else is replaced by a fresh UUID, so a client cannot inject
//! text into our logs through it.

use hyper::HeaderMap;

pub const HEADER: &str = "x-request-id";

pub fn is_sane(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// The id for a request with `headers`.
pub fn pick(headers: &HeaderMap) -> String {
    headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| is_sane(id))
        .map_or_else(crate::random::uuid_v4, str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_ids_are_kept_and_others_replaced() {
        let mut h = HeaderMap::new();
        h.insert(HEADER, "abc-123_x.y:z".parse().unwrap());
        assert_eq!(pick(&h), "abc-123_x.y:z");
        h.insert(HEADER, "bad id\"}".parse().unwrap());
        let fresh = pick(&h);
        assert_eq!(fresh.len(), 36);
        h.insert(HEADER, "x".repeat(129).parse().unwrap());
        assert_eq!(pick(&h).len(), 36);
        assert_eq!(pick(&HeaderMap::new()).len(), 36);
    }
}
