//! `TLS_AUTO=true`: a self-signed certificate generated at start (ECDSA
//! P-256, with rcgen) for `localhost`, `127.0.0.1`, `::1` and the configured
//! `HOST`, valid until 4096 (its fingerprint is what clients trust, and
//! deleting it is how it is renewed), and its SHA-256 fingerprint, printed
//! once so clients can pin it. [`super::stored`] keeps it across restarts.

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};

/// A generated certificate and its key.
pub struct SelfSigned {
    pub cert: CertificateDer<'static>,
    pub key: PrivateKeyDer<'static>,
}

/// The names a certificate for `host` carries: the loopback names, and
/// `host` unless it is a wildcard address.
pub fn names(host: &str) -> Vec<String> {
    let mut names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
    let host = host.trim_matches(['[', ']']);
    let wildcard = host.is_empty() || host == "0.0.0.0" || host == "::";
    if !wildcard && !names.iter().any(|n| n == host) {
        names.push(host.to_string());
    }
    names
}

/// Generates a certificate for the [`names`] of `host`.
pub fn generate(host: &str) -> Result<SelfSigned, String> {
    let why = |e: rcgen::Error| format!("cannot generate a certificate: {e}");
    let key = rcgen::KeyPair::generate().map_err(why)?;
    let params = rcgen::CertificateParams::new(names(host)).map_err(why)?;
    let cert = params.self_signed(&key).map_err(why)?;
    Ok(SelfSigned {
        cert: cert.der().clone(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
    })
}

/// `AA:BB:...`: the SHA-256 of the DER certificate, as browsers and `openssl x509 -fingerprint` show it.
pub fn fingerprint(cert: &[u8]) -> String {
    let digest = Sha256::digest(cert);
    let hex: Vec<String> = digest.iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_host_and_reads_back_valid_now() {
        let made = generate("10.1.2.3").unwrap();
        let der: &[u8] = &made.cert;
        // The SAN extension carries the IP address bytes.
        assert!(der.windows(4).any(|w| w == [10, 1, 2, 3]));
        let v = crate::tls::x509::read(der).unwrap().validity;
        let now = crate::clock::unix_now() as i64;
        assert!(v.not_before <= now && now < v.not_after, "{v:?}");
        crate::tls::material::build(crate::tls::material::API, vec![made.cert], made.key, None)
            .unwrap();
    }

    #[test]
    fn fingerprint_is_colon_separated_uppercase_hex() {
        let f = fingerprint(b"abc");
        assert_eq!(
            f,
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
        );
    }
}
