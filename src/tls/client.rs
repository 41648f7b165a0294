//! The fleet's client side of mutual TLS: the configuration an agent dials
//! other agents with (its fleet certificate as the client certificate, the
//! fleet's CA as the only root), and who a peer on the fleet port is.
//!
//! A peer's certificate is judged by its chain to the fleet's CA (and its
//! validity and key usage), not by a host name: members come and go at
//! addresses the orchestrator picks (Swarm tasks, Kubernetes pods), and
//! the CA is the fleet's own, so holding one of its certificates is what
//! membership means.

use super::material::{self, FLEET, MaterialError, provider};
use super::x509;
use crate::membership::TrustFiles;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::sync::Arc;

/// The configuration every connection to another agent uses.
pub fn fleet_client(trust: &TrustFiles) -> Result<Arc<ClientConfig>, MaterialError> {
    let (chain, key) = material::chain_and_key(FLEET, &trust.cert, &trust.key)?;
    let verifier = Arc::new(FleetChain {
        roots: Arc::new(material::roots(FLEET, &trust.ca)?),
        provider: provider(),
    });
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| MaterialError {
            var: FLEET.cert,
            message: e.to_string(),
        })?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(chain, key)
        .map_err(|e| MaterialError {
            var: FLEET.key,
            message: format!("the key does not fit the certificate: {e}"),
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts a server certificate that chains to the fleet's CA, whatever
/// name it carries.
#[derive(Debug)]
struct FleetChain {
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for FleetChain {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let cert = ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            &self.roots,
            intermediates,
            now,
            self.provider.signature_verification_algorithms.all,
        )?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Another agent on the fleet port, as its certificate names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetPeer {
    /// The certificate's subject (RFC 4514), `CN=edge-1` say.
    pub subject: String,
}

/// The peer whose verified certificate chain is `certs` (leaf first).
pub fn peer_of(certs: Option<&[CertificateDer<'_>]>) -> Option<FleetPeer> {
    let leaf = certs?.first()?;
    let subject = x509::read(leaf)?.subject();
    Some(FleetPeer { subject })
}
