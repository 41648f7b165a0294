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
