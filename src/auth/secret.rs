//! Secrets: a wrapper that never prints its value, and constant-time equality.
//!
//! Equality hashes both sides with HMAC-SHA256 under a per-process random key
//! and compares the digests with a branch-free fold ([`same_digest`], also
//! used for API token hashes), so neither the content nor the length of the
//! configured secret leaks through timing.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use std::sync::OnceLock;

/// A configured secret (password, signing key, API key). `Debug` and
/// `Display` print `***` so it cannot reach a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The raw value, for signing and for printing a generated secret once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison with a candidate supplied by a client.
    pub fn matches(&self, candidate: &str) -> bool {
        ct_eq(self.0.as_bytes(), candidate.as_bytes())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

fn digest(data: &[u8]) -> [u8; 32] {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        let mut k = [0u8; 32];
        crate::random::fill(&mut k);
        k
    });
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Constant-time equality of two byte strings of any lengths.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    same_digest(&digest(a), &digest(b))
}

/// Constant-time equality of two digests (fixed length, so nothing leaks
/// through it either).
pub fn same_digest(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_is_exact() {
        assert!(ct_eq(b"hunter2", b"hunter2"));
        assert!(!ct_eq(b"hunter2", b"hunter3"));
        assert!(!ct_eq(b"hunter2", b"hunter"));
        assert!(!ct_eq(b"", b"x"));
        assert!(ct_eq(b"", b""));
    }

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("s3cr3t-value");
        assert_eq!(format!("{s:?}"), "***");
        assert!(s.matches("s3cr3t-value"));
    }
}
