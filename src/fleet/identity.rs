//! What an agent tells the other agents of its fleet about itself
//! (`GET /fleet/v1/identity?nonce=…`, on the fleet port only): its
//! process's id, its host's daemon (id, name, version, containers in scope)
//! and keyed proofs of its secrets. A proof is an HMAC over the asker's
//! fresh nonce, so it shows whether two agents hold the same `SECRET_KEY`,
//! `MCP_API_KEY` and tokens file without showing either, and cannot be
//! replayed.

use crate::auth::Secret;
use crate::policy::Policy;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::sync::Arc;

/// The fleet endpoint peers ask.
pub const PATH: &str = "/fleet/v1/identity";

/// Longest nonce accepted.
const MAX_NONCE: usize = 64;

/// What one agent says of itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Identity {
    /// This agent process: random at each start.
    pub agent: String,
    pub version: String,
    /// The host's name in the fleet: `FLEET_NAME`, else its daemon's.
    pub name: String,
    /// The daemon's id (`None` while it cannot be reached).
    pub id: Option<String>,
    pub docker_version: Option<String>,
    /// Why the daemon cannot be reached, if it cannot.
    pub docker_error: Option<String>,
    /// Containers in this agent's scope: running, and all.
    pub running: Option<i64>,
    pub total: Option<i64>,
    pub proofs: Proofs,
}

/// HMACs of the asker's nonce under each shared secret.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Proofs {
    pub secret_key: String,
    pub mcp_api_key: String,
    pub api_tokens: String,
}

/// The secrets every agent of a fleet must share.
pub struct Secrets {
    pub secret_key: Secret,
    pub mcp_api_key: Secret,
    pub policy: Arc<Policy>,
}

impl Secrets {
    /// The proofs for `nonce`.
    pub fn proofs(&self, nonce: &str) -> Proofs {
        let tokens = self.policy.tokens_canonical();
        Proofs {
            secret_key: proof(self.secret_key.expose().as_bytes(), nonce, b""),
            mcp_api_key: proof(self.mcp_api_key.expose().as_bytes(), nonce, b""),
            api_tokens: proof(nonce.as_bytes(), nonce, &tokens),
        }
    }

    /// What differs between this agent's secrets and `theirs` (given for
    /// `nonce`), each with its fix.
    pub fn differences(&self, nonce: &str, theirs: &Proofs) -> Vec<&'static str> {
        let ours = self.proofs(nonce);
        let mut out = Vec::new();
        if ours.secret_key != theirs.secret_key {
            out.push(
                "its SECRET_KEY differs from this agent's, so a login made here is refused there: \
                 give every agent of the fleet the same SECRET_KEY",
            );
        }
        if ours.api_tokens != theirs.api_tokens {
            out.push(
                "its API_TOKENS_FILE differs from this agent's, so a scoped token may be refused \
                 there: give every agent the same tokens file",
            );
        }
        if ours.mcp_api_key != theirs.mcp_api_key {
            out.push(
                "its MCP_API_KEY differs from this agent's: give every agent the same MCP_API_KEY",
            );
        }
        out
    }
}

/// A nonce as a query carries it: `nonce=<1 to 64 hex digits>`.
pub fn nonce(query: Option<&str>) -> Option<&str> {
    let nonce = query?.strip_prefix("nonce=")?;
    let ok = !nonce.is_empty() && nonce.len() <= MAX_NONCE;
    (ok && nonce.bytes().all(|b| b.is_ascii_hexdigit())).then_some(nonce)
}

fn proof(key: &[u8], nonce: &str, data: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"docker-agent fleet proof v1\0");
    mac.update(nonce.as_bytes());
    mac.update(b"\0");
    mac.update(data);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Vars};

    fn secrets(pairs: &[(&str, &str)]) -> Secrets {
        let mut all = vec![
            ("API_PASSWORD", "a-long-test-password"),
            ("SECRET_KEY", "f3a9c1e07b5d2846aa19e0c4d7b3f5e2"),
            ("MCP_API_KEY", "mcp-key-0123456789"),
        ];
        all.extend_from_slice(pairs);
        let config = Config::from_vars(&Vars::from_pairs(all)).unwrap();
        Secrets {
            secret_key: config.auth.secret_key.clone(),
            mcp_api_key: config.mcp.api_key.clone(),
            policy: Arc::new(Policy::new(&config.policy, None)),
        }
    }

    #[test]
    fn proofs_show_which_secret_differs_and_depend_on_the_nonce() {
        let a = secrets(&[]);
        let same = secrets(&[]);
        assert!(a.differences("00ff", &same.proofs("00ff")).is_empty());
        assert_ne!(a.proofs("00ff"), a.proofs("00fe"));
        let other_key = secrets(&[("SECRET_KEY", "9c2e7f1a5b3d80e46c1f9a7b2d5e3c08")]);
        let found = a.differences("01", &other_key.proofs("01"));
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("SECRET_KEY"));
        let other_mcp = secrets(&[("MCP_API_KEY", "other-mcp-key-98765")]);
        let found = a.differences("01", &other_mcp.proofs("01"));
        assert!(found.len() == 1 && found[0].contains("MCP_API_KEY"));
        let proofs = a.proofs("01");
        assert!(!proofs.secret_key.contains("f3a9c1e07b5d2846"));
        assert_eq!(proofs.secret_key.len(), 64);
    }

    #[test]
    fn a_nonce_is_short_hex() {
        assert_eq!(nonce(Some("nonce=00aBf9")), Some("00aBf9"));
        for bad in [
            None,
            Some(""),
            Some("nonce="),
            Some("nonce=xyz"),
            Some("n=00"),
        ] {
            assert_eq!(nonce(bad), None, "{bad:?}");
        }
        assert_eq!(nonce(Some(&format!("nonce={}", "a".repeat(65)))), None);
    }
}
