//! JSON Web Tokens ([`JwtKeys`]): tokens signed by the `jsonwebtoken` oracle
//! verify with ours and carry the same claims, and ours verify with the
//! oracle; a header naming another algorithm is refused even with a good
//! MAC; the time claims decide validity as documented; arbitrary strings,
//! forged signatures, a changed byte or a cut anywhere in a valid token, and
//! oversized tokens never verify — and nothing panics.

use crate::json::{any_object, text};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use docker_agent::auth::jwt::{Algorithm, Claims, JwtError, JwtKeys, MAX_TOKEN_LEN};
use hmac::{Hmac, Mac};
use jsonwebtoken as oracle;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};
use sha2::{Sha256, Sha384, Sha512};

const NOW: i64 = 1_750_000_000;
const ALGORITHMS: [(Algorithm, oracle::Algorithm); 3] = [
    (Algorithm::HS256, oracle::Algorithm::HS256),
    (Algorithm::HS384, oracle::Algorithm::HS384),
    (Algorithm::HS512, oracle::Algorithm::HS512),
];

fn secret() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..64)
}

/// A token signed by the oracle with algorithm number `alg`.
fn oracle_token(alg: usize, secret: &[u8], kid: Option<String>, claims: &Value) -> String {
    let mut header = oracle::Header::new(ALGORITHMS[alg].1);
    header.kid = kid;
    oracle::encode(&header, claims, &oracle::EncodingKey::from_secret(secret)).unwrap()
}

fn keys(alg: usize, secret: &[u8]) -> JwtKeys {
    JwtKeys::new(ALGORITHMS[alg].0, secret)
}

/// `extra` with the standard claims set over it.
fn claims(extra: Value, sub: &str, exp: i64, nbf: Option<i64>) -> Value {
    let mut claims = extra;
    claims["sub"] = json!(sub);
    claims["exp"] = json!(exp);
    claims["iat"] = json!(NOW - 1);
    if let Some(nbf) = nbf {
        claims["nbf"] = json!(nbf);
    }
    claims
}

/// A token whose header says `header_alg`, MAC'd with algorithm number
/// `alg` — a signer independent of both libraries, free to lie in its header.
fn hand_signed(alg: usize, header_alg: &Value, secret: &[u8], claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        B64.encode(json!({"alg": header_alg, "typ": "JWT"}).to_string()),
        B64.encode(claims.to_string())
    );
    fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &str) -> Vec<u8> {
        let mut mac = <M as Mac>::new_from_slice(key).unwrap();
        mac.update(data.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
    let sig = match alg {
        0 => mac::<Hmac<Sha256>>(secret, &input),
        1 => mac::<Hmac<Sha384>>(secret, &input),
        _ => mac::<Hmac<Sha512>>(secret, &input),
    };
    format!("{input}.{}", B64.encode(sig))
}

/// Strings shaped like tokens: three or so dot-separated base64url runs.
fn token_like() -> impl Strategy<Value = String> {
    let segment = "[A-Za-z0-9_=+/-]{0,40}";
    prop::collection::vec(segment, 1..5).prop_map(|parts| parts.join("."))
}

proptest! {
    #[test]
    fn oracle_tokens_verify_with_ours_and_carry_their_claims(
        alg in 0..3usize,
        secret in secret(),
        kid in proptest::option::of(text()),
        extra in any_object(),
        sub in text(),
        exp in (NOW + 1)..(NOW + 1_000_000_000),
    ) {
        let token = oracle_token(alg, &secret, kid, &claims(extra, &sub, exp, Some(NOW)));
        let want = if token.len() > MAX_TOKEN_LEN {
            Err(JwtError::Oversized)
        } else {
            Ok(Claims { sub, exp })
        };
        prop_assert_eq!(keys(alg, &secret).verify(&token, NOW), want);
    }

    #[test]
    fn tokens_verify_only_with_their_algorithm_and_secret(
        (alg, other_alg) in (0..3usize, 0..3usize),
        secret in secret(),
        change in proptest::option::of((any::<Index>(), 1u8..=255)),
        sub in text(),
    ) {
        let token = oracle_token(alg, &secret, None, &claims(json!({}), &sub, NOW + 60, None));
        let other_secret = match change {
            None => secret.clone(),
            Some((_, x)) if secret.is_empty() => vec![x],
            Some((at, x)) => {
                let mut other = secret.clone();
                other[at.index(secret.len())] ^= x;
                other
            }
        };
        let verified = keys(other_alg, &other_secret).verify(&token, NOW);
        prop_assert_eq!(verified.is_ok(), alg == other_alg && change.is_none());
    }

    #[test]
    fn a_header_naming_another_algorithm_is_refused_despite_a_good_mac(
        alg in 0..3usize,
        secret in secret(),
        header_alg in prop_oneof![
            Just(json!("none")),
            Just(json!("HS256")),
            Just(json!("HS512")),
            Just(json!("hs256")),
            Just(Value::Null),
            text().prop_map(Value::from),
        ],
    ) {
        let token = hand_signed(alg, &header_alg, &secret, &claims(json!({}), "ops", NOW + 60, None));
        let want = if header_alg == ALGORITHMS[alg].0.name() {
            Ok(Claims { sub: "ops".into(), exp: NOW + 60 })
        } else {
            Err(JwtError::WrongAlgorithm)
        };
        prop_assert_eq!(keys(alg, &secret).verify(&token, NOW), want);
    }

    #[test]
    fn time_claims_decide_validity(
        alg in 0..3usize,
        exp in (NOW - 100)..(NOW + 100),
        nbf in proptest::option::of((NOW - 100)..(NOW + 100)),
    ) {
        let token = oracle_token(alg, b"k", None, &claims(json!({}), "ops", exp, nbf));
        let want = if NOW >= exp {
            Err(JwtError::Expired)
        } else if nbf.is_some_and(|nbf| NOW < nbf) {
            Err(JwtError::NotYetValid)
        } else {
            Ok(Claims { sub: "ops".into(), exp })
        };
        prop_assert_eq!(keys(alg, b"k").verify(&token, NOW), want);
    }

    #[test]
    fn our_tokens_verify_with_the_oracle(
        alg in 0..3usize,
        secret in secret(),
        sub in text(),
        now in 0i64..4_000_000_000,
        ttl in 1i64..1_000_000,
    ) {
        let token = keys(alg, &secret).sign(&sub, now, ttl);
        prop_assert_eq!(
            keys(alg, &secret).verify(&token, now),
            Ok(Claims { sub: sub.clone(), exp: now + ttl })
        );
        let mut validation = oracle::Validation::new(ALGORITHMS[alg].1);
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = oracle::decode::<Value>(
            &token,
            &oracle::DecodingKey::from_secret(&secret),
            &validation,
        )
        .unwrap();
        prop_assert_eq!(data.claims, json!({"sub": sub, "iat": now, "exp": now + ttl}));
    }

    #[test]
    fn arbitrary_strings_never_verify(
        alg in 0..3usize,
        secret in secret(),
        token in prop_oneof![any::<String>(), token_like()],
    ) {
        prop_assert!(keys(alg, &secret).verify(&token, NOW).is_err());
    }

    #[test]
    fn forged_signatures_never_verify(
        alg in 0..3usize,
        secret in secret(),
        sub in text(),
        forged in prop::collection::vec(any::<u8>(), 0..80),
    ) {
        let token = keys(alg, &secret).sign(&sub, NOW, 60);
        let (input, _) = token.rsplit_once('.').unwrap();
        let sig = B64.encode(forged);
        let verified = keys(alg, &secret).verify(&format!("{input}.{sig}"), NOW);
        prop_assert_eq!(verified, Err(JwtError::BadSignature));
    }

    #[test]
    fn changing_or_cutting_any_byte_of_a_valid_token_makes_it_fail(
        alg in 0..3usize,
        secret in secret(),
        sub in text(),
        at in any::<Index>(),
        replacement in 0x20u8..0x7f,
    ) {
        let keys = keys(alg, &secret);
        let token = keys.sign(&sub, NOW, 60);
        let i = at.index(token.len());
        let mut changed = token.clone().into_bytes();
        changed[i] = if changed[i] == replacement { replacement ^ 1 } else { replacement };
        let changed = String::from_utf8(changed).unwrap();
        prop_assert!(keys.verify(&changed, NOW).is_err(), "{} verified", changed);
        prop_assert!(keys.verify(&token[..i], NOW).is_err(), "prefix {} verified", i);
    }

    #[test]
    fn validly_signed_tokens_above_the_size_cap_are_refused(
        alg in 0..3usize,
        pad in (MAX_TOKEN_LEN / 2 - 200)..(MAX_TOKEN_LEN),
    ) {
        let extra = json!({"pad": "x".repeat(pad)});
        let token = oracle_token(alg, b"k", None, &claims(extra, "ops", NOW + 60, None));
        let verified = keys(alg, b"k").verify(&token, NOW);
        if token.len() > MAX_TOKEN_LEN {
            prop_assert_eq!(verified, Err(JwtError::Oversized));
        } else {
            prop_assert!(verified.is_ok());
        }
    }
}
