//! `docs/fleet.md` as a reader uses it: the certificate recipe run as
//! written, its certificates checked with `openssl verify` for both uses and
//! with rustls in a mutual TLS handshake between two agents' certificates
//! (another fleet's refused); and both Prometheus configurations, Swarm's
//! and Kubernetes's, run with the real Prometheus against two agents on two
//! daemons, found through a DNS server of the test's.

use crate::util::*;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use serde_json::Value;
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
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

/// Where the test's DNS server answers (a resolv.conf names no port: 53).
const DNS_ADDRESS: Ipv4Addr = Ipv4Addr::new(127, 231, 0, 53);

/// The name a `dns_sd_configs` block of `config` asks for.
fn discovered_name(config: &str) -> String {
    let (_, rest) = config.split_once("names: ['").expect(config);
    rest.split_once('\'').unwrap().0.to_string()
}

/// `config` with its `credentials_file` at `token` instead.
fn with_token_file(config: &str, token: &Path) -> String {
    let (before, rest) = config.split_once("credentials_file: ").expect(config);
    let (_, after) = rest.split_once(char::is_whitespace).unwrap();
    format!("{before}credentials_file: {} {after}", token.display())
}

/// The active targets once both `instances` are up, or what was seen at the deadline.
async fn both_up(prometheus: &Prometheus, instances: &BTreeSet<String>) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let targets = prometheus.targets().await;
        let up: BTreeSet<String> = targets
            .iter()
            .filter(|t| t["health"] == "up")
            .filter_map(|t| t["labels"]["instance"].as_str().map(str::to_string))
            .collect();
        if &up == instances || Instant::now() > deadline {
            return targets;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The series of `promql` once Prometheus has some (at most 60 s).
async fn series(prometheus: &Prometheus, promql: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let found = prometheus.query(promql).await;
        let found = found
            .and_then(|r| r.as_array().cloned())
            .unwrap_or_default();
        if !found.is_empty() || Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn prometheus_finds_every_agent_through_swarm_and_kubernetes_dns_with_the_documented_configurations()
 {
    let fleet = Fleet::start_with(2, |_| vec![("METRICS_TOKEN".into(), METRICS_TOKEN.into())]);
    // A container on each daemon: its series must come from its own agent.
    let containers: Vec<Container> = fleet
        .hosts
        .iter()
        .map(|host| Container::run_on(&host.daemon, &[], &["every:100"]))
        .collect();
    let instances: BTreeSet<String> = fleet
        .hosts
        .iter()
        .map(|host| host.agent.addr.to_string())
        .collect();
    let addresses: Vec<Ipv4Addr> = fleet
        .hosts
        .iter()
        .map(|host| match host.agent.addr.ip() {
            IpAddr::V4(ip) => ip,
            IpAddr::V6(ip) => panic!("{ip}"),
        })
        .collect();

    let dir = temp_dir("fleet-prometheus");
    let token = dir.join("docker-agent.token");
    std::fs::write(&token, METRICS_TOKEN).unwrap();
    let configs: Vec<String> = ["tasks.docker-agent", "svc.cluster.local"]
        .iter()
        .map(|needle| doc_block("docs/fleet.md", "yaml", needle))
        .collect();
    let names: Vec<String> = configs.iter().map(|c| discovered_name(c)).collect();
    assert_eq!(names[0], "tasks.docker-agent", "Swarm's name for the tasks");
    assert!(names[1].starts_with("docker-agent-fleet."), "{}", names[1]);
    let records: Vec<(&str, Ipv4Addr)> = names
        .iter()
        .flat_map(|name| addresses.iter().map(move |ip| (name.as_str(), *ip)))
        .collect();
    let dns = Dns::start(DNS_ADDRESS, &records);

    let mut servers = Vec::new();
    for (config, name) in configs.iter().zip(&names) {
        // No static target: every instance comes from the DNS discovery.
        assert!(!config.contains("static_configs"), "{config}");
        let config = with_token_file(config, &token);
        let file = dir.join(format!("{name}.yml"));
        std::fs::write(&file, &config).unwrap();
        run_ok(
            Command::new("promtool")
                .arg("check")
                .arg("config")
                .arg(&file),
        );
        servers.push(Prometheus::start(&config, Some(dns.address)).await);
    }

    for (prometheus, name) in servers.iter().zip(&names) {
        let targets = both_up(prometheus, &instances).await;
        assert_eq!(targets.len(), 2, "{name}: {targets:#?}");
        for target in &targets {
            assert_eq!(target["health"], "up", "{name}: {target:#}");
            assert_eq!(target["labels"]["job"], "docker-agent", "{target:#}");
            assert_eq!(
                target["discoveredLabels"]["__meta_dns_name"],
                name.as_str(),
                "{target:#}"
            );
        }
        // Each agent's own series, by the instance the discovery named it.
        for instance in &instances {
            let promql = format!("docker_agent_build_info{{instance=\"{instance}\"}}");
            let found = series(prometheus, &promql).await;
            assert_eq!(found.len(), 1, "{name}: {promql}: {found:#?}");
            assert_eq!(found[0]["metric"]["job"], "docker-agent");
        }
        for (container, host) in containers.iter().zip(&fleet.hosts) {
            let instance = host.agent.addr.to_string();
            let promql = format!("container_last_seen{{name=\"{}\"}}", container.name);
            let found = series(prometheus, &promql).await;
            assert_eq!(found.len(), 1, "{name}: {promql}: {found:#?}");
            assert_eq!(
                found[0]["metric"]["instance"],
                instance.as_str(),
                "{name}: the container's series comes from its own host's agent"
            );
        }
    }
    drop(servers);
    drop(dns);
    let _ = std::fs::remove_dir_all(&dir);
}
