//! Builds the rustls server configuration from PEM files (certificate
//! chain, private key, optional client CA bundle for mutual TLS) or from a
//! generated certificate, with the `ring` provider, and warns when the
//! served certificate is expired or not yet valid.

use super::refusals::Recorded;
use super::x509;
use crate::clock::unix_now;
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use std::path::Path;
use std::sync::Arc;

/// The settings a listener's files come from, to name in its errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Names {
    pub cert: &'static str,
    pub key: &'static str,
    pub ca: &'static str,
}

/// The API port's files.
pub const API: Names = Names {
    cert: "TLS_CERT_FILE",
    key: "TLS_KEY_FILE",
    ca: "TLS_CLIENT_CA_FILE",
};

/// The fleet port's files.
pub const FLEET: Names = Names {
    cert: "FLEET_CERT_FILE",
    key: "FLEET_KEY_FILE",
    ca: "FLEET_CA_FILE",
};

/// A TLS setting that cannot be used, with the variable it came from.
#[derive(Debug)]
pub struct MaterialError {
    pub var: &'static str,
    pub message: String,
}

fn fail(var: &'static str, path: &Path, why: impl std::fmt::Display) -> MaterialError {
    MaterialError {
        var,
        message: format!("{}: {why}", path.display()),
    }
}

/// The crypto provider every TLS object of the agent uses.
pub(super) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The PEM certificate chain and key in `cert` and `key`.
pub fn chain_and_key(
    names: Names,
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), MaterialError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| fail(names.cert, cert, e))?;
    if chain.is_empty() {
        return Err(fail(names.cert, cert, "no CERTIFICATE block"));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| fail(names.key, key, e))?;
    Ok((chain, key_der))
}

/// The CA certificates of the PEM bundle `path`.
pub fn roots(names: Names, path: &Path) -> Result<rustls::RootCertStore, MaterialError> {
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| fail(names.ca, path, e))?;
    if certs.is_empty() {
        return Err(fail(names.ca, path, "no CERTIFICATE block"));
    }
    for ca in certs {
        roots.add(ca).map_err(|e| fail(names.ca, path, e))?;
    }
    Ok(roots)
}

/// Reads the PEM certificate chain and key (and client CA) and builds a config.
pub fn from_files(
    names: Names,
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<Arc<ServerConfig>, MaterialError> {
    let (chain, key) = chain_and_key(names, cert, key)?;
    build(names, chain, key, client_ca)
}

/// A config for `chain` and `key`, asking for client certificates signed by
/// `client_ca` when set.
pub fn build(
    names: Names,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_ca: Option<&Path>,
) -> Result<Arc<ServerConfig>, MaterialError> {
    let provider = provider();
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| MaterialError {
            var: names.cert,
            message: e.to_string(),
        })?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let roots = roots(names, path)?;
            let verifier = WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                .build()
                .map_err(|e| fail(names.ca, path, e))?;
            builder.with_client_cert_verifier(Arc::new(Recorded(verifier)))
        }
    };
    warn_if_not_valid(&chain[0]);
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| MaterialError {
            var: names.key,
            message: format!("the key does not fit the certificate: {e}"),
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Logs a warning naming the date when the leaf certificate is outside its validity.
fn warn_if_not_valid(leaf: &CertificateDer<'_>) {
    let Some(v) = x509::read(leaf).map(|c| c.validity) else {
        log::warn!("cannot read the TLS certificate's validity period");
        return;
    };
    let now = unix_now() as i64;
    let date = x509::date;
    if v.not_after < now {
        log::warn!(not_after = date(v.not_after).as_str();
            "the TLS certificate has EXPIRED: clients will refuse it; renew it (the agent reloads the files when they change, or on SIGHUP)");
    } else if v.not_before > now {
        log::warn!(not_before = date(v.not_before).as_str();
            "the TLS certificate is not valid yet: clients will refuse it until then");
    }
}
