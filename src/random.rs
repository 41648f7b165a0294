//! Unpredictable bytes for generated secrets, request ids and session ids.
//!
//! A 32-byte seed is drawn once from the kernel (`/dev/urandom`, mixed with
//! std's OS-seeded hasher keys so a missing device never leaves us without
//! entropy), then expanded with SHA-256 in counter mode. Outputs are
//! independent as long as the seed stays secret; nothing here is ever logged.

use sha2::{Digest, Sha256};
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::io::Read;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

struct Generator {
    seed: [u8; 32],
    counter: AtomicU64,
}

fn generator() -> &'static Generator {
    static GENERATOR: OnceLock<Generator> = OnceLock::new();
    GENERATOR.get_or_init(|| Generator {
        seed: seed(),
        counter: AtomicU64::new(0),
    })
}

fn seed() -> [u8; 32] {
    let mut hasher = Sha256::new();
    let mut kernel = [0u8; 32];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = f.read_exact(&mut kernel);
    }
    hasher.update(kernel);
    for i in 0..4u64 {
        hasher.update(RandomState::new().hash_one(i).to_le_bytes());
    }
    hasher.update(format!(
        "{:?}{}",
        std::time::SystemTime::now(),
        std::process::id()
    ));
    hasher.finalize().into()
}

/// Fills `out` with fresh random bytes.
pub fn fill(out: &mut [u8]) {
    let g = generator();
    for chunk in out.chunks_mut(32) {
        let n = g.counter.fetch_add(1, Ordering::Relaxed);
        let block: [u8; 32] = Sha256::new()
            .chain_update(g.seed)
            .chain_update(n.to_le_bytes())
            .finalize()
            .into();
        chunk.copy_from_slice(&block[..chunk.len()]);
    }
}

/// A URL-safe secret of `bytes` random bytes (base64url, no padding).
pub fn token(bytes: usize) -> String {
    use base64::Engine;
    let mut buf = vec![0u8; bytes];
    fill(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// `base` give or take a quarter, at random: retries of peers that failed
/// together then do not come back in step.
pub fn jittered(base: std::time::Duration) -> std::time::Duration {
    let mut b = [0u8; 2];
    fill(&mut b);
    base.mul_f64(0.75 + f64::from(u16::from_le_bytes(b) % 500) / 1000.0)
}

/// A random (version 4) UUID in its canonical text form.
pub fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_a_quarter() {
        let base = std::time::Duration::from_secs(4);
        for _ in 0..200 {
            let d = jittered(base);
            assert!(d >= base * 3 / 4 && d <= base * 5 / 4, "{d:?}");
        }
    }
    use std::collections::HashSet;

    #[test]
    fn outputs_do_not_repeat() {
        let seen: HashSet<String> = (0..1000).map(|_| token(16)).collect();
        assert_eq!(seen.len(), 1000);
    }

    #[test]
    fn uuid_has_version_and_variant_bits() {
        let u = uuid_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
    }

    #[test]
    fn fill_covers_partial_blocks() {
        let mut a = [0u8; 45];
        fill(&mut a);
        assert!(a[32..].iter().any(|&x| x != 0));
    }
}
