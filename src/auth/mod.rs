//! Authentication: the login check (constant-time on username and
//! password), token issue and verification. Which
//! credential names which caller (JWT, scoped token, MCP key) is
//! [`crate::policy::Policy::identify`]'s business.
//!
//! - [`jwt`]: HS256/384/512 tokens written in-house.
//! - [`secret`]: the `Secret` wrapper and constant-time comparison.

pub mod jwt;
pub mod secret;

use crate::contract::Token;
use crate::error::Error;
use jwt::{Algorithm, Claims, JwtKeys};
pub use secret::Secret;
use secret::ct_eq;
use std::time::Duration;

pub struct Auth {
    keys: JwtKeys,
    username: String,
    password: Secret,
    ttl_secs: u64,
}

impl Auth {
    pub fn new(cfg: &AuthConfig) -> Auth {
        Auth {
            keys: JwtKeys::new(cfg.algorithm, cfg.secret_key.expose().as_bytes()),
            username: cfg.username.clone(),
            password: cfg.password.clone(),
            ttl_secs: cfg.token_ttl.as_secs(),
        }
    }

    /// A token if both username and password match. Both comparisons always
    /// run, in constant time, so timing reveals neither.
    pub fn login(&self, username: &str, password: &str) -> Option<Token> {
        let user_ok = ct_eq(self.username.as_bytes(), username.as_bytes());
        let pass_ok = self.password.matches(password);
        (user_ok & pass_ok).then(|| Token {
            access_token: self.issue(username),
            token_type: "bearer",
            expires_in: self.ttl_secs,
        })
    }

    /// Whether `username` is the login user (in constant time).
    pub fn is_user(&self, username: &str) -> bool {
        ct_eq(self.username.as_bytes(), username.as_bytes())
    }

    /// Signs a token for `sub` from now.
    pub fn issue(&self, sub: &str) -> String {
        self.keys
            .sign(sub, crate::clock::unix_now() as i64, self.ttl_secs as i64)
    }

    /// Verifies a raw token (WebSocket `?token=` or a bearer value).
    pub fn verify(&self, token: &str) -> Result<Claims, Error> {
        self.keys
            .verify(token, crate::clock::unix_now() as i64)
            .map_err(|e| {
                log::debug!(reason = format!("{e:?}").as_str(); "token rejected");
                Error::Unauthorized("Invalid or expired token")
            })
    }
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub secret_key: Secret,
    pub algorithm: Algorithm,
    pub token_ttl: Duration,
    pub username: String,
    pub password: Secret,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Vars};

    fn auth() -> Auth {
        let cfg = Config::from_vars(&Vars::from_pairs([
            ("API_PASSWORD", "ops-password-123"),
            ("API_USERNAME", "ops"),
        ]))
        .unwrap();
        Auth::new(&cfg.auth)
    }

    #[test]
    fn login_needs_both_username_and_password() {
        let a = auth();
        let token = a.login("ops", "ops-password-123").unwrap();
        assert_eq!(token.token_type, "bearer");
        assert_eq!(token.expires_in, 1800);
        assert_eq!(a.verify(&token.access_token).unwrap().sub, "ops");
        assert!(a.login("ops", "ops-password-1234").is_none());
        assert!(a.login("admin", "ops-password-123").is_none());
        assert!(a.login("", "").is_none());
        assert!(a.is_user("ops") && !a.is_user("admin") && !a.is_user("ops "));
    }

    #[test]
    fn bad_tokens_are_401() {
        assert_eq!(
            auth().verify("nope").unwrap_err(),
            Error::Unauthorized("Invalid or expired token")
        );
    }
}
