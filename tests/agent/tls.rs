//! TLS on the real binary, checked with independent clients: certificates
//! made with the `openssl` CLI, `curl` for HTTPS and mutual TLS, Python's
//! `ssl` module for WSS (a minimal WebSocket client), certificate serials
//! and fingerprints; plus rotation without a restart, an expired
//! certificate, `TLS_AUTO`, the healthcheck over TLS, and the warning or
//! refusal for plain text on a reachable address.

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
    let (key, csr, pem) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
    );
    let ext = format!("{name}.ext");
    std::fs::write(
        dir.join(&ext),
        format!("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage={eku}\n"),
    )
    .unwrap();
    let mut args = vec!["req", "-new", "-nodes", "-subj", "/CN=localhost"];
    args.extend(EC);
    args.extend(["-keyout", &key, "-out", &csr]);
    openssl(dir, &args);
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
    let as_client = |who: &str| {
        let (cert, key) = (
            path(&dir, &format!("{who}.pem")),
            path(&dir, &format!("{who}.key")),
        );
        curl(&["--cacert", &ca, "--cert", &cert, "--key", &key, &url])
    };
    let (code, body) = as_client("stranger");
    assert_ne!(code, 0, "a certificate from another CA: refused");
    assert!(body.is_empty(), "{body}");
    let (code, body) = as_client("client");
    assert_eq!(code, 0);
    assert!(body.contains(r#""status":"ok""#), "{body}");

    let (code, stderr) = healthcheck(&dir, "127.0.0.1", &port);
    assert_eq!(code, 0, "{stderr}");
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

#[test]
fn an_expired_certificate_is_reported_at_start() {
    let dir = temp_dir("tls-expired");
    std::fs::write(
        dir.join("ca.cnf"),
        "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial.txt\n\
         default_md = sha256\npolicy = p\ncopy_extensions = copy\n[p]\ncommonName = supplied\n",
    )
    .unwrap();
    std::fs::write(dir.join("index.txt"), "").unwrap();
    std::fs::write(dir.join("serial.txt"), "01\n").unwrap();
    let mut args = vec![
        "req",
        "-new",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "old.key",
        "-out",
        "old.csr",
    ];
    args.extend(EC);
    args.extend(["-addext", "subjectAltName=DNS:localhost"]);
    openssl(&dir, &args);
    openssl(
        &dir,
        &[
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-selfsign",
            "-keyfile",
            "old.key",
            "-in",
            "old.csr",
            "-out",
            "old.pem",
            "-notext",
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20200102000000Z",
        ],
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
