//! JSON Web Tokens, HMAC family only (HS256, HS384, HS512), written in-house.
//!
//! A token is `base64url(header).base64url(claims).base64url(mac)`. We issue
//! `{"sub","iat","exp"}` and verify strictly, in this order: size, shape,
//! header (`alg` must equal the configured algorithm — `none` and every other
//! value are refused before any MAC work; unknown `crit` extensions are
//! refused), constant-time MAC check, then the time claims (`exp` required,
//! `nbf` honoured). Interoperability with a mainstream JWT library is proven
//! in the unit tests below.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Sha256, Sha384, Sha512};

/// Tokens longer than this are refused unread.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    HS256,
    HS384,
    HS512,
}

impl Algorithm {
    /// Parses the `ALGORITHM` setting (`HS256`, `HS384`, `HS512`).
    pub fn parse(s: &str) -> Option<Algorithm> {
        match s {
            "HS256" => Some(Algorithm::HS256),
            "HS384" => Some(Algorithm::HS384),
            "HS512" => Some(Algorithm::HS512),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::HS256 => "HS256",
            Algorithm::HS384 => "HS384",
            Algorithm::HS512 => "HS512",
        }
    }
}

/// Why a token was refused. Callers answer all of them with the same 401;
/// the distinction is for tests and debug logs.
#[derive(Debug, PartialEq, Eq)]
pub enum JwtError {
    Oversized,
    Malformed,
    WrongAlgorithm,
    BadSignature,
    Expired,
    NotYetValid,
    MissingSubject,
}

/// The claims we read back from a verified token.
#[derive(Debug, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    pub exp: i64,
}

/// Signs and verifies tokens with one algorithm and secret.
pub struct JwtKeys {
    alg: Algorithm,
    secret: Vec<u8>,
}

fn mac_of<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> M {
    let mut mac = <M as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac
}

impl JwtKeys {
    pub fn new(alg: Algorithm, secret: &[u8]) -> JwtKeys {
        JwtKeys {
            alg,
            secret: secret.to_vec(),
        }
    }

    fn sign_bytes(&self, data: &[u8]) -> Vec<u8> {
        let key = &self.secret;
        match self.alg {
            Algorithm::HS256 => mac_of::<Hmac<Sha256>>(key, data)
                .finalize()
                .into_bytes()
                .to_vec(),
            Algorithm::HS384 => mac_of::<Hmac<Sha384>>(key, data)
                .finalize()
                .into_bytes()
                .to_vec(),
            Algorithm::HS512 => mac_of::<Hmac<Sha512>>(key, data)
                .finalize()
                .into_bytes()
                .to_vec(),
        }
    }

    fn verify_bytes(&self, data: &[u8], sig: &[u8]) -> bool {
        let key = &self.secret;
        match self.alg {
            Algorithm::HS256 => mac_of::<Hmac<Sha256>>(key, data).verify_slice(sig).is_ok(),
            Algorithm::HS384 => mac_of::<Hmac<Sha384>>(key, data).verify_slice(sig).is_ok(),
            Algorithm::HS512 => mac_of::<Hmac<Sha512>>(key, data).verify_slice(sig).is_ok(),
        }
    }

    /// Issues a token for `sub`, valid from `now` for `ttl` seconds.
    pub fn sign(&self, sub: &str, now: i64, ttl: i64) -> String {
        let header = json!({"alg": self.alg.name(), "typ": "JWT"});
        let claims = json!({"sub": sub, "iat": now, "exp": now + ttl});
        let signing_input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let sig = B64.encode(self.sign_bytes(signing_input.as_bytes()));
        format!("{signing_input}.{sig}")
    }

    /// Verifies `token` at Unix time `now` and returns its claims.
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, JwtError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(JwtError::Oversized);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        self.check_header(&decode_json(h)?)?;
        let sig = B64.decode(s).map_err(|_| JwtError::Malformed)?;
        let signing_input = &token[..h.len() + 1 + c.len()];
        if !self.verify_bytes(signing_input.as_bytes(), &sig) {
            return Err(JwtError::BadSignature);
        }
        check_claims(&decode_json(c)?, now)
    }

    fn check_header(&self, header: &Value) -> Result<(), JwtError> {
        if header.get("alg").and_then(Value::as_str) != Some(self.alg.name()) {
            return Err(JwtError::WrongAlgorithm);
        }
        if header.get("crit").is_some() {
            return Err(JwtError::Malformed);
        }
        Ok(())
    }
}

fn decode_json(part: &str) -> Result<Value, JwtError> {
    let bytes = B64.decode(part).map_err(|_| JwtError::Malformed)?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)?;
    value
        .is_object()
        .then_some(value)
        .ok_or(JwtError::Malformed)
}

/// A NumericDate claim: integer or fractional seconds.
fn numeric_date(claims: &Value, name: &str) -> Result<Option<i64>, JwtError> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| {
                v.as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.floor() as i64)
            })
            .map(Some)
            .ok_or(JwtError::Malformed),
    }
}

fn check_claims(claims: &Value, now: i64) -> Result<Claims, JwtError> {
    let exp = numeric_date(claims, "exp")?.ok_or(JwtError::Malformed)?;
    if now >= exp {
        return Err(JwtError::Expired);
    }
    if numeric_date(claims, "nbf")?.is_some_and(|nbf| now < nbf) {
        return Err(JwtError::NotYetValid);
    }
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .ok_or(JwtError::MissingSubject)?;
    Ok(Claims {
        sub: sub.to_string(),
        exp,
    })
}

#[cfg(test)]
mod tests;
