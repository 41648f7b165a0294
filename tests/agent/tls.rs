//! TLS on the real binary, checked with independent clients: certificates
//! made with the `openssl` CLI, `curl` for HTTPS and mutual TLS, Python's
//! `ssl` module for WSS (a minimal WebSocket client), certificate serials
//! and fingerprints; plus rotation without a restart, an expired
//! certificate, client certificates issued with docs/tls.md's commands and
//! the log of refused ones, `TLS_AUTO`, the healthcheck over TLS, and the
//! warning or refusal for plain text on a reachable address.

use crate::util::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Prints the serial of the certificate served (verified against a CA file).
const SERIAL_PY: &str = r#"
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[3])
with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10) as s:
    with ctx.wrap_socket(s, server_hostname="localhost") as t:
        print(t.getpeercert()["serialNumber"])
"#;

/// Prints the SHA-256 of the certificate served, unverified (for pinning).
const FINGERPRINT_PY: &str = r#"
import hashlib, socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10) as s:
    with ctx.wrap_socket(s) as t:
        print(hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest())
"#;

/// A minimal WSS client: prints the status line, then `ping` for each ping
/// received (answering with a masked pong) and `close` at the end; event
/// messages (other tests' containers) are read and not printed.
const WSS_PY: &str = r#"
import base64, os, socket, ssl, sys
host, port, ca, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
t = ctx.wrap_socket(socket.create_connection((host, port), timeout=30), server_hostname="localhost")
key = base64.b64encode(os.urandom(16)).decode()
t.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, key)).encode())
head = b""
while b"\r\n\r\n" not in head:
    chunk = t.recv(1)
    if not chunk:
        print("eof", flush=True); sys.exit(1)
    head += chunk
print(head.split(b"\r\n")[0].decode(), flush=True)
def exact(n):
    b = b""
    while len(b) < n:
        c = t.recv(n - len(b))
        if not c:
            print("close", flush=True); sys.exit(0)
        b += c
    return b
while True:
    h = exact(2)
    op, n = h[0] & 15, h[1] & 127
    if n == 126: n = int.from_bytes(exact(2), "big")
    elif n == 127: n = int.from_bytes(exact(8), "big")
    payload = exact(n)
    if op == 9:
        mask = os.urandom(4)
        t.sendall(bytes([0x8A, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
        print("ping", flush=True)
    elif op == 8:
        print("close", flush=True); sys.exit(0)
"#;

fn openssl(dir: &Path, args: &[&str]) {
    run_ok(Command::new("openssl").current_dir(dir).args(args));
}

const EC: [&str; 4] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];

/// A CA `name.pem` / `name.key` in `dir`.
fn make_ca(dir: &Path, name: &str) {
    let (key, pem, subj) = (
        format!("{name}.key"),
        format!("{name}.pem"),
        format!("/CN={name}"),
    );
    let mut args = vec!["req", "-x509", "-nodes", "-days", "2", "-subj", &subj];
    args.extend(EC);
    args.extend(["-keyout", &key, "-out", &pem]);
    args.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
    args.extend(["-addext", "keyUsage=critical,keyCertSign"]);
    openssl(dir, &args);
}

/// A leaf `name.pem` / `name.key` signed by CA `ca`, for localhost and
/// 127.0.0.1, with extended key usage `eku` and serial `serial` (hex).
fn make_leaf(dir: &Path, ca: &str, name: &str, serial: &str, eku: &str) {
    let (csr, pem) = (format!("{name}.csr"), format!("{name}.pem"));
    let ext = format!("{name}.ext");
    std::fs::write(
        dir.join(&ext),
        format!("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage={eku}\n"),
    )
    .unwrap();
    make_request(dir, name, "localhost", &[]);
    let (ca_pem, ca_key, serial) = (
        format!("{ca}.pem"),
        format!("{ca}.key"),
        format!("0x{serial}"),
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_pem,
            "-CAkey",
            &ca_key,
            "-set_serial",
            &serial,
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &pem,
        ],
    );
}

/// `curl` trusting `ca`, with the client certificate `who.pem` and key `who.key` of `dir`.
fn curl_as(dir: &Path, ca: &str, who: &str, args: &[&str]) -> (i32, String) {
    let (cert, key) = (
        path(dir, &format!("{who}.pem")),
        path(dir, &format!("{who}.key")),
    );
    let mut all = vec!["--cacert", ca, "--cert", &cert, "--key", &key];
    all.extend(args);
    curl(&all)
}

fn python(script: &str, args: &[&str]) -> String {
    run_ok(Command::new("python3").arg("-c").arg(script).args(args))
}

fn path(dir: &Path, file: &str) -> String {
    dir.join(file).to_string_lossy().into_owned()
}

fn port_of(address: &str) -> String {
    address.rsplit(':').next().unwrap().to_string()
}

/// A Python client whose stdout lines are read one by one.
fn python_lines(script: &str, args: &[&str]) -> Process {
    let mut cmd = Command::new("python3");
    cmd.arg("-c").arg(script).args(args).stdout(Stdio::piped());
    Process::from_command(cmd)
}

fn login(base: &str, ca: &str) -> String {
    let (_, body) = curl(&[
        "--cacert",
        ca,
        "-X",
        "POST",
        &format!("{base}/api/v1/auth/login"),
        "-H",
        "content-type: application/json",
        "-d",
        &format!(r#"{{"username":"admin","password":"{PASSWORD}"}}"#),
    ]);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

/// An agent on every address serving a certificate signed by a fresh CA,
/// with short ping intervals.
struct Served {
    agent: Process,
    dir: PathBuf,
    ca: String,
    cert: String,
    key: String,
    port: String,
}

impl Served {
    fn start(name: &str, serial: &str) -> Served {
        let dir = temp_dir(name);
        make_ca(&dir, "ca");
        make_leaf(&dir, "ca", "server", serial, "serverAuth");
        let (cert, key) = (path(&dir, "server.pem"), path(&dir, "server.key"));
        let env = [
            ("TLS_CERT_FILE", cert.as_str()),
            ("TLS_KEY_FILE", key.as_str()),
            ("API_PASSWORD", PASSWORD),
            ("WS_PING_INTERVAL", "1"),
            ("HOST", "0.0.0.0"),
        ];
        let mut agent = Process::spawn(&dir, &env);
        let port = port_of(&agent.address());
        Served {
            agent,
            ca: path(&dir, "ca.pem"),
            dir,
            cert,
            key,
            port,
        }
    }

    /// Its directory, CA file, certificate, key and port.
    fn files(&self) -> (PathBuf, String, String, String, String) {
        let s = self;
        (
            s.dir.clone(),
            s.ca.clone(),
            s.cert.clone(),
            s.key.clone(),
            s.port.clone(),
        )
    }

    /// A WSS events stream, open and pinged once.
    fn stream(&self) -> Process {
        let token = login(&format!("https://localhost:{}", self.port), &self.ca);
        let path = format!("/api/v1/events/ws?token={token}");
        let mut wss = python_lines(WSS_PY, &["127.0.0.1", &self.port, &self.ca, &path]);
        assert_eq!(wss.next_line(), "HTTP/1.1 101 Switching Protocols");
        assert_eq!(wss.next_line(), "ping", "the stream runs over TLS");
        wss
    }
}

/// An IPv4 address of this machine other than loopback.
fn non_loopback_ipv4() -> Option<String> {
    let out = Command::new("hostname").arg("-I").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split_whitespace()
        .find(|a| {
            a.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| !ip.is_loopback())
        })
        .map(str::to_string)
}

/// Waits (bounded) until `check` holds.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn https_wss_and_the_healthcheck_work_and_plain_http_is_turned_away() {
    let served = Served::start("tls-basic", "1001");
    let (dir, ca, _, _, port) = served.files();
    let base = format!("https://localhost:{port}");

    let (code, body) = curl(&["--cacert", &ca, &format!("{base}/api/v1/healthz")]);
    assert_eq!(code, 0);
    assert!(body.contains(r#""status":"ok""#), "{body}");

    let mut wss = served.stream();
    assert_eq!(wss.next_line(), "ping");

    let (code, stderr) = healthcheck(&dir, "127.0.0.1", &port);
    assert_eq!(
        code, 0,
        "the probe is answered in plain text from loopback: {stderr}"
    );
    let (_, body) = curl(&["-i", &format!("http://127.0.0.1:{port}/api/v1/containers/")]);
    assert!(body.starts_with("HTTP/1.1 400"), "{body}");
    assert!(body.contains("This port speaks HTTPS"), "{body}");
    let ip = non_loopback_ipv4().expect("a non-loopback address on this machine");
    let (code, stderr) = healthcheck(&dir, &ip, &port);
    assert_eq!(code, 0, "HOST set to this host's address: {stderr}");
    let (_, body) = curl(&["-i", &format!("http://{ip}:{port}/api/v1/containers/")]);
    assert!(body.starts_with("HTTP/1.1 400"), "{body}");
    let (code, _) = curl(&[
        "--cacert",
        &ca,
        "--resolve",
        &format!("localhost:{port}:{ip}"),
        &format!("{base}/api/v1/healthz"),
    ]);
    assert_eq!(code, 0, "HTTPS from elsewhere works");
    // Not HTTP and not TLS: closed without an answer.
    let mut raw = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    std::io::Write::write_all(&mut raw, b"\x00\x01garbage\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let _ = std::io::Read::read_to_end(&mut raw, &mut buf);
    assert!(buf.is_empty(), "{buf:?}");
    let (code, _) = curl(&["--cacert", &ca, &format!("{base}/api/v1/healthz")]);
    assert_eq!(code, 0, "still serving after the bad clients");
    let (_, lines) = served.agent.terminate();
    assert!(
        !lines.iter().any(|l| l.contains("listening without TLS")),
        "TLS on every address is not an exposure"
    );
}

#[test]
fn mutual_tls_refuses_clients_without_a_certificate_from_the_ca() {
    let dir = temp_dir("tls-mutual");
    make_ca(&dir, "ca");
    make_ca(&dir, "other");
    make_leaf(&dir, "ca", "server", "2001", "serverAuth");
    make_leaf(&dir, "ca", "client", "2002", "clientAuth");
    make_leaf(&dir, "other", "stranger", "2003", "clientAuth");
    let (ca, cert, key) = (
        path(&dir, "ca.pem"),
        path(&dir, "server.pem"),
        path(&dir, "server.key"),
    );
    let tls = [
        ("TLS_CERT_FILE", cert.as_str()),
        ("TLS_KEY_FILE", key.as_str()),
        ("TLS_CLIENT_CA_FILE", ca.as_str()),
    ];
    let mut agent = Process::spawn(&dir, &tls);
    let port = port_of(&agent.address());
    let url = format!("https://localhost:{port}/api/v1/healthz");

    let (code, body) = curl(&["--cacert", &ca, &url]);
    assert_ne!(code, 0, "no client certificate: refused");
    assert!(body.is_empty(), "{body}");
    let as_client = |who: &str| curl_as(&dir, &ca, who, &[&url]);
    let (code, body) = as_client("stranger");
    assert_ne!(code, 0, "a certificate from another CA: refused");
    assert!(body.is_empty(), "{body}");
    let (code, body) = as_client("client");
    assert_eq!(code, 0);
    assert!(body.contains(r#""status":"ok""#), "{body}");

    let (code, stderr) = healthcheck(&dir, "127.0.0.1", &port);
    assert_eq!(code, 0, "{stderr}");
}

/// Runs, in `dir`, the commands of `docs/tls.md` that issue a client
/// certificate (the bash block naming `extendedKeyUsage=clientAuth`) as
/// written: `client-ca.pem`/`.key` and `client.pem`/`.key`.
fn documented_client_certificate(dir: &Path) {
    let block = doc_block("docs/tls.md", "bash", "extendedKeyUsage=clientAuth");
    run_ok(
        Command::new("bash")
            .args(["-euo", "pipefail", "-c", &block])
            .current_dir(dir),
    );
}

/// What `openssl x509 -noout -<field>` prints for certificate `pem`,
/// without the `field=` prefix (names as RFC 4514 writes them).
fn x509_field(dir: &Path, pem: &str, field: &str) -> String {
    let out = run_ok(
        Command::new("openssl")
            .current_dir(dir)
            .args(["x509", "-noout", "-nameopt", "RFC2253", "-in", pem])
            .arg(format!("-{field}")),
    );
    out.trim()
        .split_once('=')
        .map(|(_, v)| v.to_string())
        .unwrap()
}

#[test]
fn client_certificates_issued_as_the_readme_says_connect_and_refused_ones_are_logged_with_the_reason()
 {
    let dir = temp_dir("tls-refusals");
    make_ca(&dir, "ca");
    make_leaf(&dir, "ca", "server", "5001", "serverAuth");
    documented_client_certificate(&dir);
    // The same CA, but a v1 certificate (no -extfile), and an expired one.
    make_request(&dir, "v1", "old-style", &[]);
    let ca = ["-CA", "client-ca.pem", "-CAkey", "client-ca.key"];
    let mut args = vec!["x509", "-req", "-in", "v1.csr", "-set_serial", "0x5002"];
    args.extend(ca);
    args.extend(["-days", "2", "-out", "v1.pem"]);
    openssl(&dir, &args);
    make_request(&dir, "expired", "last-year", &[]);
    let signer = ["-cert", "client-ca.pem", "-keyfile", "client-ca.key"];
    let extfile = ["-extfile", "client.ext"];
    sign_expired(
        &dir,
        "expired.csr",
        "expired.pem",
        &[&signer[..], &extfile].concat(),
    );
    // A v3 client certificate from a CA the agent does not know.
    make_ca(&dir, "other");
    make_leaf(&dir, "other", "stranger", "5003", "clientAuth");
    let metrics_token = "scrape-0123456789abcdef";
    let (server_ca, cert, key, client_ca) = (
        path(&dir, "ca.pem"),
        path(&dir, "server.pem"),
        path(&dir, "server.key"),
        path(&dir, "client-ca.pem"),
    );
    let env = [
        ("TLS_CERT_FILE", cert.as_str()),
        ("TLS_KEY_FILE", key.as_str()),
        ("TLS_CLIENT_CA_FILE", client_ca.as_str()),
        ("METRICS_TOKEN", metrics_token),
    ];
    let mut agent = Process::spawn(&dir, &env);
    let port = port_of(&agent.address());
    let url = |route: &str| format!("https://localhost:{port}{route}");
    let as_client = |who: &str, args: &[&str]| curl_as(&dir, &server_ca, who, args);

    let (code, body) = as_client("client", &[&url("/api/v1/healthz")]);
    assert_eq!(code, 0, "the documented certificate is accepted");
    assert!(body.contains(r#""status":"ok""#), "{body}");
    for who in ["v1", "stranger", "expired", "expired", "expired"] {
        let (code, body) = as_client(who, &[&url("/api/v1/healthz")]);
        assert_ne!(code, 0, "{who}: refused");
        assert!(body.is_empty(), "{who}: {body}");
    }
    let (code, _) = curl(&["--cacert", &server_ca, &url("/api/v1/healthz")]);
    assert_ne!(code, 0, "no certificate: refused");

    let reasons = ["not_v3", "unknown_issuer", "expired", "no_certificate"];
    for reason in reasons {
        agent.wait_line(&format!(r#""reason":"{reason}""#));
    }
    let bearer = format!("Authorization: Bearer {metrics_token}");
    let (code, metrics) = as_client("client", &["-H", &bearer, &url("/metrics")]);
    assert_eq!(code, 0);
    assert!(
        metrics.contains("docker_agent_auth_failures_total{credential=\"client_certificate\"} 6\n"),
        "every refusal is counted, logged or not: {metrics}"
    );
    let (_, lines) = agent.terminate();
    let refused: Vec<serde_json::Value> = lines
        .iter()
        .filter(|l| l.contains("TLS client certificate refused"))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let of = |reason: &str| {
        let found: Vec<_> = refused.iter().filter(|v| v["reason"] == reason).collect();
        assert_eq!(found.len(), 1, "one line for {reason}: {refused:#?}");
        let line = found[0];
        assert_eq!(line["level"], "WARN", "{line}");
        assert_eq!(line["client"], "127.0.0.1", "{line}");
        assert_eq!(line["suppressed"], 0, "{line}");
        line.clone()
    };
    assert_eq!(refused.len(), reasons.len(), "{refused:#?}");
    for (reason, pem, detail) in [
        ("not_v3", "v1.pem", "an X.509 v1 certificate"),
        ("unknown_issuer", "stranger.pem", "TLS_CLIENT_CA_FILE"),
        (
            "expired",
            "expired.pem",
            "expired at 2020-01-02T00:00:00.000Z",
        ),
    ] {
        let line = of(reason);
        assert!(line["detail"].as_str().unwrap().contains(detail), "{line}");
        for field in ["subject", "issuer", "serial"] {
            assert_eq!(
                line[field],
                x509_field(&dir, pem, field),
                "{reason}: {field}"
            );
        }
    }
    let none = of("no_certificate");
    assert!(none.get("subject").is_none(), "{none}");
    assert!(
        !lines.iter().any(|l| l.contains("PRIVATE KEY")),
        "no key material in the log"
    );
}

#[test]
fn rotated_certificates_reach_new_connections_while_an_open_stream_continues() {
    let mut served = Served::start("tls-rotate", "3001");
    let (dir, ca, cert, _, port) = served.files();
    let serial = || python(SERIAL_PY, &["127.0.0.1", &port, &ca]);
    assert_eq!(serial(), "3001");
    let mut wss = served.stream();

    // Renewal as certbot does it: new files in place, no signal.
    let rotate = |serial: &str| {
        make_leaf(&dir, "ca", "next", serial, "serverAuth");
        std::fs::rename(dir.join("next.key"), dir.join("server.key")).unwrap();
        std::fs::rename(dir.join("next.pem"), dir.join("server.pem")).unwrap();
    };
    rotate("3002");
    eventually("the new certificate is served", || serial() == "3002");
    for _ in 0..3 {
        assert_eq!(wss.next_line(), "ping", "the open stream continues");
    }

    rotate("3003");
    Command::new("kill")
        .args(["-HUP", &served.agent.pid().to_string()])
        .status()
        .unwrap();
    served.agent.wait_line(r#""trigger":"SIGHUP""#);
    assert_eq!(serial(), "3003");

    std::fs::write(&cert, "not a certificate").unwrap();
    served.agent.wait_line("TLS reload failed");
    assert_eq!(
        serial(),
        "3003",
        "a broken file keeps the previous certificate"
    );
    assert_eq!(wss.next_line(), "ping");
    let (code, stderr) = healthcheck(&dir, "127.0.0.1", &port);
    assert_eq!(code, 0, "{stderr}");
}

/// Signs request `csr` into `out` with `openssl ca`, valid only on
/// 2020-01-01 (long expired), with the signer's `signer` arguments
/// (`-selfsign -keyfile K`, or `-cert C -keyfile K`).
fn sign_expired(dir: &Path, csr: &str, out: &str, signer: &[&str]) {
    if !dir.join("ca.cnf").exists() {
        std::fs::write(
            dir.join("ca.cnf"),
            "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial.txt\n\
             default_md = sha256\npolicy = p\ncopy_extensions = copy\n[p]\ncommonName = supplied\n",
        )
        .unwrap();
        std::fs::write(dir.join("index.txt"), "").unwrap();
        std::fs::write(dir.join("serial.txt"), "01\n").unwrap();
    }
    let mut args = vec!["ca", "-batch", "-config", "ca.cnf", "-notext"];
    args.extend(signer);
    args.extend(["-in", csr, "-out", out]);
    args.extend([
        "-startdate",
        "20200101000000Z",
        "-enddate",
        "20200102000000Z",
    ]);
    openssl(dir, &args);
}

/// A key `name.key` and request `name.csr` for subject `/CN=cn`, with `extra` arguments.
fn make_request(dir: &Path, name: &str, cn: &str, extra: &[&str]) {
    let (key, csr, subj) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("/CN={cn}"),
    );
    let mut args = vec!["req", "-new", "-nodes", "-subj", &subj];
    args.extend(EC);
    args.extend(["-keyout", &key, "-out", &csr]);
    args.extend(extra);
    openssl(dir, &args);
}

#[test]
fn an_expired_certificate_is_reported_at_start() {
    let dir = temp_dir("tls-expired");
    make_request(
        &dir,
        "old",
        "localhost",
        &["-addext", "subjectAltName=DNS:localhost"],
    );
    sign_expired(
        &dir,
        "old.csr",
        "old.pem",
        &["-selfsign", "-keyfile", "old.key"],
    );
    let old = path(&dir, "old.pem");
    let mut agent = Process::spawn(
        &dir,
        &[
            ("TLS_CERT_FILE", &old),
            ("TLS_KEY_FILE", &path(&dir, "old.key")),
        ],
    );
    let warning = agent.wait_line("EXPIRED");
    assert!(
        warning.contains(r#""not_after":"2020-01-02T00:00:00.000Z""#),
        "{warning}"
    );
    let port = port_of(&agent.address());
    let (code, _) = curl(&[
        "--cacert",
        &old,
        &format!("https://localhost:{port}/api/v1/healthz"),
    ]);
    assert_eq!(code, 60, "curl refuses the expired certificate");
}

#[test]
fn tls_auto_prints_the_fingerprint_of_the_certificate_it_serves() {
    let dir = temp_dir("tls-auto");
    let mut agent = Process::spawn(&dir, &[("TLS_AUTO", "true")]);
    let line = agent.wait_line("TLS certificate SHA-256 fingerprint: ");
    let printed = line
        .rsplit(": ")
        .next()
        .unwrap()
        .replace(':', "")
        .to_lowercase();
    assert_eq!(printed.len(), 64, "{line}");
    let port = port_of(&agent.address());
    assert_eq!(python(FINGERPRINT_PY, &["127.0.0.1", &port]), printed);
    let (code, stderr) = healthcheck(&dir, "127.0.0.1", &port);
    assert_eq!(code, 0, "{stderr}");
    let (_, lines) = agent.terminate();
    assert_eq!(
        lines.iter().filter(|l| l.contains("fingerprint")).count(),
        1
    );
}

/// The fingerprint `openssl s_client` is served on `host:port`, as the
/// docs/tls.md shows it (`AA:BB:...`), and the certificate's subjectAltName.
fn served_by(host: &str, port: &str) -> (String, String) {
    let script = format!(
        "openssl s_client -connect {host}:{port} </dev/null 2>/dev/null | \
         openssl x509 -noout -fingerprint -sha256 -ext subjectAltName"
    );
    let out = run_ok(Command::new("sh").args(["-c", &script]));
    let (first, names) = out.trim().split_once('\n').unwrap();
    let fingerprint = first.split_once('=').unwrap().1.to_string();
    (fingerprint, names.to_string())
}

/// The fingerprint `openssl x509` reads in certificate file `pem`.
fn file_fingerprint(pem: &Path) -> String {
    let out = run_ok(
        Command::new("openssl")
            .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
            .arg(pem),
    );
    out.trim().split_once('=').unwrap().1.to_string()
}

/// One start of the agent in `dir` with `TLS_AUTO_DIR=store` on `host`:
/// the fingerprint it prints, what it serves, and its output.
fn start_kept(dir: &Path, store: &Path, host: &str) -> (String, (String, String), Vec<String>) {
    let store = store.to_string_lossy();
    let env = [
        ("TLS_AUTO", "true"),
        ("TLS_AUTO_DIR", &store),
        ("HOST", host),
    ];
    let mut agent = Process::spawn(dir, &env);
    let line = agent.wait_line("TLS certificate SHA-256 fingerprint: ");
    let printed = line.rsplit(": ").next().unwrap().to_string();
    let port = port_of(&agent.address());
    let served = served_by(host, &port);
    let (_, lines) = agent.terminate();
    (printed, served, lines)
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn tls_auto_dir_keeps_the_certificate_and_its_fingerprint_across_restarts() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("tls-auto-dir");
    let store = dir.join("kept");
    let (key, cert) = (
        store.join("tls-auto-key.pem"),
        store.join("tls-auto-cert.pem"),
    );
    let said = |lines: &[String], what: &str| lines.iter().any(|l| l.contains(what));

    let (first, served, lines) = start_kept(&dir, &store, "127.0.0.1");
    assert_eq!(served.0, first, "it serves what it printed");
    assert!(said(&lines, "no certificate stored yet"), "{lines:#?}");
    assert_eq!((mode(&store), mode(&key)), (0o700, 0o600));
    assert_eq!(file_fingerprint(&cert), first, "the stored certificate");

    let (again, served, lines) = start_kept(&dir, &store, "127.0.0.1");
    assert_eq!(
        (again.as_str(), served.0.as_str()),
        (first.as_str(), first.as_str()),
        "a restart keeps it"
    );
    assert!(
        said(&lines, "serving the certificate stored in TLS_AUTO_DIR"),
        "{lines:#?}"
    );

    let empty = temp_dir("tls-auto-dir-empty");
    let (other, _, _) = start_kept(&dir, &empty, "127.0.0.1");
    assert_ne!(other, first, "another directory, another certificate");

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (again, _, lines) = start_kept(&dir, &store, "127.0.0.1");
    assert_eq!(again, first);
    assert!(
        said(&lines, "private key was readable by other users"),
        "{lines:#?}"
    );
    assert_eq!(mode(&key), 0o600);

    // Another HOST: a new certificate naming it, kept from then on.
    let (moved, (served, names), lines) = start_kept(&dir, &store, "127.0.0.2");
    assert_ne!(moved, first);
    assert_eq!(served, moved);
    assert!(names.contains("IP Address:127.0.0.2"), "{names}");
    assert!(said(&lines, "HOST asks for"), "{lines:#?}");
    assert_eq!(start_kept(&dir, &store, "127.0.0.2").0, moved);

    // A certificate that expires within 30 days is replaced.
    let names = "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1,IP:127.0.0.2";
    let (key_s, cert_s) = (key.to_string_lossy(), cert.to_string_lossy());
    let mut args = vec!["req", "-x509", "-nodes", "-days", "10", "-subj", "/CN=soon"];
    args.extend(EC);
    args.extend(["-keyout", &key_s, "-out", &cert_s, "-addext", names]);
    openssl(&dir, &args);
    let soon = file_fingerprint(&cert);
    let (renewed, _, lines) = start_kept(&dir, &store, "127.0.0.2");
    assert_ne!(renewed, soon);
    assert!(said(&lines, "within 30 days"), "{lines:#?}");

    // A corrupt file: said, replaced, and the new pair is kept.
    std::fs::write(&cert, "not a certificate").unwrap();
    let (fresh, _, lines) = start_kept(&dir, &store, "127.0.0.2");
    let warning = lines
        .iter()
        .find(|l| l.contains("cannot be reused"))
        .expect("a warning");
    assert!(
        warning.contains("does not hold one PEM certificate"),
        "{warning}"
    );
    assert!(warning.contains(r#""level":"WARN""#), "{warning}");
    assert_ne!(fresh, renewed);
    assert_eq!(file_fingerprint(&cert), fresh);
    assert_eq!(start_kept(&dir, &store, "127.0.0.2").0, fresh);
}

#[test]
fn a_tls_auto_dir_the_agent_cannot_write_or_read_stops_the_start() {
    use std::os::unix::fs::{PermissionsExt, chown};
    let dir = temp_dir("tls-auto-denied");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let refused = |store: &Path| {
        let store = store.to_string_lossy();
        let env = [("TLS_AUTO", "true"), ("TLS_AUTO_DIR", &*store)];
        let (code, out) = Process::spawn_as_nobody(&dir, &env).wait_exit();
        assert_eq!(code, 2, "{out}");
        assert!(!out.contains("docker-agent listening"), "{out}");
        assert!(
            out.contains(&format!("invalid configuration: TLS_AUTO_DIR: {store}")),
            "{out}"
        );
        out
    };
    let out = refused(&dir);
    assert!(
        out.contains("cannot write there: Permission denied"),
        "{out}"
    );
    assert!(out.contains("the agent runs as uid 65534"), "{out}");
    assert!(out.contains("belongs to uid 0 (mode 755)"), "{out}");
    let out = refused(&dir.join("sub"));
    assert!(out.contains("cannot create the directory"), "{out}");

    // Its own directory, but a key file it cannot read.
    let own = dir.join("own");
    std::fs::create_dir(&own).unwrap();
    chown(&own, Some(65534), Some(65534)).unwrap();
    std::fs::write(own.join("tls-auto-key.pem"), "root's").unwrap();
    std::fs::set_permissions(
        own.join("tls-auto-key.pem"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let out = refused(&own);
    assert!(
        out.contains("tls-auto-key.pem: cannot read it: Permission denied"),
        "{out}"
    );
}

#[test]
fn plain_text_on_a_reachable_address_warns_and_require_tls_refuses() {
    let dir = temp_dir("tls-exposed");
    let mut agent = Process::spawn(&dir, &[("HOST", "0.0.0.0")]);
    let warning = agent.wait_line("listening without TLS");
    assert!(
        warning.contains("TLS_CERT_FILE") && warning.contains("REQUIRE_TLS"),
        "{warning}"
    );
    let port = port_of(&agent.address());
    let (code, body) = curl(&[&format!("http://127.0.0.1:{port}/api/v1/healthz")]);
    assert_eq!(code, 0, "zero-config start still serves");
    assert!(body.contains("status"), "{body}");
    let (_, lines) = agent.terminate();
    let mut quiet = Process::spawn(&dir, &[]);
    quiet.address();
    let (_, lines_loopback) = quiet.terminate();
    assert!(lines.iter().any(|l| l.contains("listening without TLS")));
    assert!(
        !lines_loopback
            .iter()
            .any(|l| l.contains("listening without TLS")),
        "loopback is not exposed"
    );

    let refused = Process::spawn(&dir, &[("HOST", "0.0.0.0"), ("REQUIRE_TLS", "true")]);
    let (code, output) = refused.wait_exit();
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("REQUIRE_TLS") && output.contains("TLS_CERT_FILE"),
        "{output}"
    );
    assert!(!output.contains("docker-agent listening"), "{output}");
}

#[test]
fn plain_http_exposure_silences_the_warning_but_never_lifts_require_tls() {
    let dir = temp_dir("tls-acknowledged");
    let mut agent = Process::spawn(
        &dir,
        &[("HOST", "0.0.0.0"), ("PLAIN_HTTP_EXPOSURE", "tls-proxy")],
    );
    let noted = agent.wait_line("acknowledged");
    assert!(
        noted.contains(r#""level":"INFO""#) && noted.contains("PLAIN_HTTP_EXPOSURE=tls-proxy"),
        "{noted}"
    );
    agent.address();
    let (_, lines) = agent.terminate();
    assert!(
        !lines.iter().any(|l| l.contains("listening without TLS")),
        "{lines:#?}"
    );

    let both = [
        ("HOST", "0.0.0.0"),
        ("PLAIN_HTTP_EXPOSURE", "loopback"),
        ("REQUIRE_TLS", "true"),
    ];
    let (code, output) = Process::spawn(&dir, &both).wait_exit();
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains("PLAIN_HTTP_EXPOSURE=loopback")
            && output.contains("does not lift REQUIRE_TLS"),
        "{output}"
    );
    let (code, output) = Process::spawn(&dir, &[("PLAIN_HTTP_EXPOSURE", "lan")]).wait_exit();
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("PLAIN_HTTP_EXPOSURE"), "{output}");
}

#[test]
fn unusable_tls_files_stop_the_start_naming_the_variable() {
    let dir = temp_dir("tls-unusable");
    make_ca(&dir, "ca");
    make_leaf(&dir, "ca", "a", "4001", "serverAuth");
    make_leaf(&dir, "ca", "b", "4002", "serverAuth");
    let cases = [
        (
            path(&dir, "missing.pem"),
            path(&dir, "a.key"),
            "TLS_CERT_FILE",
        ),
        (path(&dir, "a.pem"), path(&dir, "a.pem"), "TLS_KEY_FILE"),
        (path(&dir, "a.pem"), path(&dir, "b.key"), "TLS_KEY_FILE"),
    ];
    for (cert, key, var) in cases {
        let agent = Process::spawn(&dir, &[("TLS_CERT_FILE", &cert), ("TLS_KEY_FILE", &key)]);
        let (code, output) = agent.wait_exit();
        assert_eq!(code, 2, "{output}");
        assert!(
            output.contains(&format!("invalid configuration: {var}")),
            "{output}"
        );
    }
}
