//! `docs/fleet.md` as a reader uses it: the certificate recipe run as
//! written, its certificates checked with `openssl verify` for both uses and
//! with rustls in a mutual TLS handshake between two agents' certificates
//! (another fleet's refused).

use crate::util::*;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The agents the recipe issues certificates for, as the page writes it.
const AGENTS: [&str; 3] = ["node-a", "node-b", "node-c"];

/// `openssl` with `args` in `dir`: whether it succeeded, and what it said.
fn openssl(dir: &Path, args: &[&str]) -> (bool, String) {
    run_said(Command::new("openssl").args(args).current_dir(dir))
}

#[test]
fn the_certificate_recipe_issues_a_fleet_ca_and_a_certificate_per_agent_for_server_and_client_use()
{
    let dir = temp_dir("fleet-certs");
    let fleet = issue_fleet_certificates(&dir, &AGENTS);
    let (_, ca) = openssl(&fleet, &["x509", "-in", "ca.pem", "-noout", "-text"]);
    assert!(
        ca.contains("CA:TRUE") && ca.contains("Certificate Sign") && ca.contains("prime256v1"),
        "{ca}"
    );
    for agent in AGENTS {
        let pem = format!("{agent}.pem");
        for purpose in ["sslserver", "sslclient"] {
            let (ok, said) = openssl(
                &fleet,
                &["verify", "-purpose", purpose, "-CAfile", "ca.pem", &pem],
            );
            assert!(
                ok && said.contains(&format!("{pem}: OK")),
                "{purpose}: {said}"
            );
        }
        let (_, text) = openssl(&fleet, &["x509", "-in", &pem, "-noout", "-text"]);
        for expected in [
            format!("Subject: CN = {agent}"),
            format!("DNS:{agent}"),
            "TLS Web Server Authentication, TLS Web Client Authentication".into(),
            "CA:FALSE".into(),
            "prime256v1".into(),
        ] {
            assert!(text.contains(&expected), "{agent}: {expected}: {text}");
        }
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(fleet.join(format!("{agent}.key")))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{agent}.key is its owner's alone");
    }
    // Each run makes a CA of its own: another run's certificates are not of
    // this fleet.
    let other = issue_fleet_certificates(&temp_dir("fleet-certs-other"), &["node-a"]);
    let stranger = other.join("node-a.pem").to_string_lossy().into_owned();
    let (ok, said) = openssl(&fleet, &["verify", "-CAfile", "ca.pem", &stranger]);
    assert!(!ok, "another fleet's certificate verified: {said}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(other.parent().unwrap());
}

fn certificates(path: &Path) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(path)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn key(path: &Path) -> PrivateKeyDer<'static> {
    PrivateKeyDer::from_pem_file(path).unwrap()
}

fn roots(fleet: &Path) -> Arc<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for ca in certificates(&fleet.join("ca.pem")) {
        roots.add(ca).unwrap();
    }
    Arc::new(roots)
}

/// What an agent serves on its fleet port: its certificate, and only
/// clients with a certificate of the fleet's CA.
fn server_config(fleet: &Path, agent: &str) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiClientVerifier::builder_with_provider(roots(fleet), provider.clone())
        .build()
        .unwrap();
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            certificates(&fleet.join(format!("{agent}.pem"))),
            key(&fleet.join(format!("{agent}.key"))),
        )
        .unwrap();
    Arc::new(config)
}

/// How an agent forwards: trusting the fleet CA in `fleet`, presenting the
/// certificate of `agent` from `own` (none when `None`).
fn client_config(fleet: &Path, own: Option<(&Path, &str)>) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots(fleet));
    let config = match own {
        Some((dir, agent)) => builder
            .with_client_auth_cert(
                certificates(&dir.join(format!("{agent}.pem"))),
                key(&dir.join(format!("{agent}.key"))),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    Arc::new(config)
}

/// A mutual TLS handshake over an in-memory pipe to `server_name`, then a
/// ping and a pong: the certificates each side saw of the other, or why
/// the server refused.
async fn handshake(
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
    server_name: &str,
) -> Result<(Vec<CertificateDer<'static>>, Vec<CertificateDer<'static>>), String> {
    let (near, far) = tokio::io::duplex(64 * 1024);
    let name = ServerName::try_from(server_name.to_string()).unwrap();
    let serve = async move {
        let mut tls = tokio_rustls::TlsAcceptor::from(server)
            .accept(far)
            .await
            .map_err(|e| e.to_string())?;
        let mut ping = [0u8; 4];
        tls.read_exact(&mut ping).await.map_err(|e| e.to_string())?;
        tls.write_all(b"pong").await.map_err(|e| e.to_string())?;
        tls.flush().await.map_err(|e| e.to_string())?;
        let seen = tls.get_ref().1.peer_certificates().unwrap_or_default();
        Ok::<_, String>(seen.iter().map(|c| c.clone().into_owned()).collect())
    };
    let call = async move {
        let mut tls = tokio_rustls::TlsConnector::from(client)
            .connect(name, near)
            .await
            .map_err(|e| e.to_string())?;
        tls.write_all(b"ping").await.map_err(|e| e.to_string())?;
        let mut pong = [0u8; 4];
        tls.read_exact(&mut pong).await.map_err(|e| e.to_string())?;
        let seen = tls.get_ref().1.peer_certificates().unwrap_or_default();
        Ok::<_, String>(seen.iter().map(|c| c.clone().into_owned()).collect())
    };
    let both = async { tokio::join!(serve, call) };
    let (served, called) = tokio::time::timeout(Duration::from_secs(10), both)
        .await
        .expect("the handshake ends");
    let client_seen = served?;
    let server_seen = called.map_err(|e| format!("the client failed: {e}"))?;
    Ok((client_seen, server_seen))
}

#[tokio::test]
async fn two_agents_certificates_from_the_recipe_complete_a_mutual_tls_handshake_and_another_fleets_are_refused()
 {
    let dir = temp_dir("fleet-handshake");
    let fleet = issue_fleet_certificates(&dir, &AGENTS);
    // node-b forwards to node-a: each is verified as the other's role needs
    // (serverAuth for node-a, clientAuth for node-b), by the CA alone.
    let (client_seen, server_seen) = handshake(
        server_config(&fleet, "node-a"),
        client_config(&fleet, Some((&fleet, "node-b"))),
        "node-a",
    )
    .await
    .unwrap();
    assert_eq!(client_seen, certificates(&fleet.join("node-b.pem")));
    assert_eq!(server_seen, certificates(&fleet.join("node-a.pem")));

    // No certificate, or one of another fleet's CA: refused in the handshake.
    let other_dir = temp_dir("fleet-handshake-other");
    let other = issue_fleet_certificates(&other_dir, &["node-b"]);
    for (what, client) in [
        ("no certificate", client_config(&fleet, None)),
        (
            "another fleet's certificate",
            client_config(&fleet, Some((&other, "node-b"))),
        ),
    ] {
        let refused = handshake(server_config(&fleet, "node-a"), client, "node-a").await;
        assert!(refused.is_err(), "{what} was accepted");
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&other_dir);
}
