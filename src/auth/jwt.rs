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
mod tests {
    use super::*;
    use jsonwebtoken as oracle;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW: i64 = 1_750_000_000;

    fn keys(alg: Algorithm) -> JwtKeys {
        JwtKeys::new(alg, SECRET)
    }

    fn oracle_alg(alg: Algorithm) -> oracle::Algorithm {
        match alg {
            Algorithm::HS256 => oracle::Algorithm::HS256,
            Algorithm::HS384 => oracle::Algorithm::HS384,
            Algorithm::HS512 => oracle::Algorithm::HS512,
        }
    }

    fn forge(header: &str, claims: &str, sig: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            B64.encode(header),
            B64.encode(claims),
            B64.encode(sig)
        )
    }

    #[test]
    fn round_trips_for_every_algorithm() {
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let token = keys(alg).sign("admin", NOW, 1800);
            let claims = keys(alg).verify(&token, NOW + 10).unwrap();
            assert_eq!(
                claims,
                Claims {
                    sub: "admin".into(),
                    exp: NOW + 1800
                }
            );
        }
    }

    #[test]
    fn our_tokens_verify_with_the_oracle_library() {
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let now = crate::clock::unix_now() as i64;
            let token = keys(alg).sign("admin", now, 600);
            let mut validation = oracle::Validation::new(oracle_alg(alg));
            validation.set_required_spec_claims(&["exp", "sub"]);
            let data = oracle::decode::<Value>(
                &token,
                &oracle::DecodingKey::from_secret(SECRET),
                &validation,
            )
            .unwrap();
            assert_eq!(data.claims["sub"], "admin");
            assert_eq!(data.claims["iat"], now);
            assert_eq!(data.header.alg, oracle_alg(alg));
        }
    }

    #[test]
    fn oracle_tokens_verify_with_ours() {
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let claims = json!({"sub": "ops", "exp": NOW + 60, "iat": NOW, "nbf": NOW - 5});
            let token = oracle::encode(
                &oracle::Header::new(oracle_alg(alg)),
                &claims,
                &oracle::EncodingKey::from_secret(SECRET),
            )
            .unwrap();
            assert_eq!(keys(alg).verify(&token, NOW).unwrap().sub, "ops");
        }
    }

    #[test]
    fn oracle_token_with_other_secret_is_rejected() {
        let token = oracle::encode(
            &oracle::Header::new(oracle::Algorithm::HS256),
            &json!({"sub": "ops", "exp": NOW + 60}),
            &oracle::EncodingKey::from_secret(b"another-secret-another-secret-xx"),
        )
        .unwrap();
        assert_eq!(
            keys(Algorithm::HS256).verify(&token, NOW),
            Err(JwtError::BadSignature)
        );
    }

    #[test]
    fn expired_token_is_rejected() {
        let token = keys(Algorithm::HS256).sign("admin", NOW - 100, 50);
        assert_eq!(
            keys(Algorithm::HS256).verify(&token, NOW),
            Err(JwtError::Expired)
        );
        let at_exp = keys(Algorithm::HS256).sign("admin", NOW - 50, 50);
        assert_eq!(
            keys(Algorithm::HS256).verify(&at_exp, NOW),
            Err(JwtError::Expired)
        );
    }

    #[test]
    fn not_yet_valid_token_is_rejected() {
        let k = keys(Algorithm::HS256);
        let input = format!(
            "{}.{}",
            B64.encode(r#"{"alg":"HS256"}"#),
            B64.encode(format!(
                r#"{{"sub":"a","exp":{},"nbf":{}}}"#,
                NOW + 100,
                NOW + 50
            ))
        );
        let token = format!("{input}.{}", B64.encode(k.sign_bytes(input.as_bytes())));
        assert_eq!(k.verify(&token, NOW), Err(JwtError::NotYetValid));
    }

    #[test]
    fn alg_none_and_other_algorithms_are_rejected() {
        let claims = format!(r#"{{"sub":"admin","exp":{}}}"#, NOW + 100);
        let k = keys(Algorithm::HS256);
        for header in [
            r#"{"alg":"none"}"#,
            r#"{"alg":"HS512"}"#,
            r#"{"alg":"RS256"}"#,
            r#"{"typ":"JWT"}"#,
            r#"{"alg":"hs256"}"#,
        ] {
            let unsigned = format!("{}.{}.", B64.encode(header), B64.encode(&claims));
            assert_eq!(
                k.verify(&unsigned, NOW),
                Err(JwtError::WrongAlgorithm),
                "{header}"
            );
        }
        // A real HS512 token is refused by an HS256 verifier even with the same secret.
        let hs512 = keys(Algorithm::HS512).sign("admin", NOW, 100);
        assert_eq!(k.verify(&hs512, NOW), Err(JwtError::WrongAlgorithm));
    }

    #[test]
    fn tampered_tokens_are_rejected() {
        let k = keys(Algorithm::HS256);
        let token = k.sign("admin", NOW, 100);
        let (input, _) = token.rsplit_once('.').unwrap();
        let other_claims = forge(
            r#"{"alg":"HS256"}"#,
            r#"{"sub":"root","exp":9999999999}"#,
            b"x",
        );
        let (_, forged_sig) = other_claims.rsplit_once('.').unwrap();
        assert_eq!(
            k.verify(&format!("{input}.{forged_sig}"), NOW),
            Err(JwtError::BadSignature)
        );
        let mut bytes = token.clone().into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            k.verify(&String::from_utf8(bytes).unwrap(), NOW),
            Err(JwtError::BadSignature)
        );
    }

    #[test]
    fn malformed_tokens_are_rejected_without_panics() {
        let k = keys(Algorithm::HS256);
        let good = k.sign("admin", NOW, 100);
        let cases = [
            String::new(),
            "a.b".into(),
            "a.b.c.d".into(),
            "!!!.###.$$$".into(),
            format!("{good}."),
            format!("{}.{}.", B64.encode("[]"), B64.encode("{}")),
            format!("{}.x.y", B64.encode("not json")),
            format!(
                "{}==.{}",
                &good[..good.find('.').unwrap()],
                &good[good.find('.').unwrap() + 1..]
            ),
        ];
        for case in &cases {
            assert!(k.verify(case, NOW).is_err(), "{case}");
        }
    }

    #[test]
    fn signed_token_without_subject_or_expiry_is_rejected() {
        let k = keys(Algorithm::HS256);
        let sign = |claims: &str| {
            let input = format!(
                "{}.{}",
                B64.encode(r#"{"alg":"HS256"}"#),
                B64.encode(claims)
            );
            format!("{input}.{}", B64.encode(k.sign_bytes(input.as_bytes())))
        };
        let no_sub = sign(&format!(r#"{{"exp":{}}}"#, NOW + 10));
        assert_eq!(k.verify(&no_sub, NOW), Err(JwtError::MissingSubject));
        assert_eq!(
            k.verify(&sign(r#"{"sub":"a"}"#), NOW),
            Err(JwtError::Malformed)
        );
        assert_eq!(
            k.verify(&sign(r#"{"sub":"a","exp":"soon"}"#), NOW),
            Err(JwtError::Malformed)
        );
        let crit = format!(
            "{}.{}.",
            B64.encode(r#"{"alg":"HS256","crit":["x"]}"#),
            B64.encode("{}")
        );
        assert_eq!(k.verify(&crit, NOW), Err(JwtError::Malformed));
    }

    #[test]
    fn oversized_token_is_rejected_unread() {
        let huge = "a".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(
            keys(Algorithm::HS256).verify(&huge, NOW),
            Err(JwtError::Oversized)
        );
    }
}
