//! `TLS_AUTO_DIR`: the certificate `TLS_AUTO` generates, kept across
//! restarts so that its fingerprint, which clients pin, stays the same.
//!
//! The directory holds [`KEY_FILE`] (PKCS#8, mode 0600) and [`CERT_FILE`].
//! At start they are reused when both read back, the key fits the
//! certificate, it stays valid for [`RENEW_BEFORE`] more, and it names
//! exactly what the agent would generate for `HOST` now; otherwise a new
//! pair replaces them and the log says why. Each file is written under a
//! temporary name and renamed into place, the key first, so a crash leaves
//! the old pair or a mismatch that the next start replaces. A directory
//! the agent cannot create or write, or a file it cannot read, stops the
//! start: a certificate that silently changed at every restart is what the
//! setting is there to prevent.

use super::auto::{self, SelfSigned};
use super::{material, x509};
use crate::clock::unix_now;
use base64::Engine;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use std::collections::BTreeSet;
use std::fs;
use std::io::{ErrorKind, Write};
use std::net::IpAddr;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The private key, PEM (PKCS#8), readable by the agent's user only.
pub const KEY_FILE: &str = "tls-auto-key.pem";
/// The certificate, PEM.
pub const CERT_FILE: &str = "tls-auto-cert.pem";
/// A stored certificate that expires within this many seconds is replaced.
pub const RENEW_BEFORE: i64 = 30 * 24 * 3600;

/// What the directory holds.
enum Stored {
    Reusable(SelfSigned),
    Nothing,
    /// Files that cannot be reused, and why.
    Unusable(String),
}

/// The certificate for `host` kept in `dir`: the stored one when it can be
/// reused, else a new one, stored there.
pub fn load_or_generate(dir: &Path, host: &str) -> Result<SelfSigned, String> {
    let shown = dir.display().to_string();
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("{shown}: cannot create the directory: {e}; {}", hint(dir)))?;
    writable(dir).map_err(|e| format!("{shown}: cannot write there: {e}; {}", hint(dir)))?;
    let dir_field = shown.as_str();
    match stored(dir, host)? {
        Stored::Reusable(kept) => {
            keep_key_private(&dir.join(KEY_FILE));
            log::info!(dir = dir_field; "TLS_AUTO: serving the certificate stored in TLS_AUTO_DIR");
            return Ok(kept);
        }
        Stored::Nothing => {
            log::info!(dir = dir_field; "TLS_AUTO: no certificate stored yet; generating one and storing it in TLS_AUTO_DIR");
        }
        Stored::Unusable(why) => {
            log::warn!(dir = dir_field, reason = why.as_str();
                "TLS_AUTO: the stored certificate cannot be reused; generating a new one (its fingerprint changes: clients that pinned the old one must pin the new one)");
        }
    }
    let made = auto::generate(host)?;
    store(dir, &made).map_err(|e| format!("{shown}: cannot store the certificate: {e}"))?;
    Ok(made)
}

/// Reads the stored pair; an error only when a file exists but cannot be read.
fn stored(dir: &Path, host: &str) -> Result<Stored, String> {
    let read = |name: &str| {
        let path = dir.join(name);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: cannot read it: {e}", path.display())),
        }
    };
    Ok(match (read(KEY_FILE)?, read(CERT_FILE)?) {
        (None, None) => Stored::Nothing,
        (Some(key), Some(cert)) => match reusable(&key, &cert, host) {
            Ok(kept) => Stored::Reusable(kept),
            Err(why) => Stored::Unusable(why),
        },
        (None, Some(_)) => Stored::Unusable(format!("{KEY_FILE} is missing")),
        (Some(_), None) => Stored::Unusable(format!("{CERT_FILE} is missing")),
    })
}

/// The stored pair, if it can be served for `host` now; else why not.
fn reusable(key: &[u8], cert: &[u8], host: &str) -> Result<SelfSigned, String> {
    let mut certs = CertificateDer::pem_slice_iter(cert);
    let (Some(Ok(cert)), None) = (certs.next(), certs.next()) else {
        return Err(format!("{CERT_FILE} does not hold one PEM certificate"));
    };
    let key = PrivateKeyDer::from_pem_slice(key)
        .map_err(|e| format!("{KEY_FILE} holds no usable private key: {e}"))?;
    CertifiedKey::from_der(vec![cert.clone()], key.clone_key(), &material::provider())
        .map_err(|e| format!("the key does not fit the certificate: {e}"))?;
    let fields = x509::read(&cert).ok_or("the certificate cannot be read")?;
    let (v, now) = (fields.validity, unix_now() as i64);
    if v.not_before > now {
        return Err(format!("not valid before {}", x509::date(v.not_before)));
    }
    if v.not_after - now < RENEW_BEFORE {
        return Err(format!(
            "expires at {}, within 30 days",
            x509::date(v.not_after)
        ));
    }
    let (wanted, named) = (names(auto::names(host)), names(fields.alt_names()));
    if wanted != named {
        let list = |set: BTreeSet<String>| set.into_iter().collect::<Vec<_>>().join(", ");
        return Err(format!(
            "it names {}, and HOST asks for {}",
            list(named),
            list(wanted)
        ));
    }
    Ok(SelfSigned { cert, key })
}

/// Host names compared as certificates compare them: IP addresses in one
/// spelling, DNS names in lower case.
fn names(list: Vec<String>) -> BTreeSet<String> {
    list.into_iter()
        .map(|n| match n.parse::<IpAddr>() {
            Ok(ip) => ip.to_string(),
            Err(_) => n.to_ascii_lowercase(),
        })
        .collect()
}

/// Writes the key, then the certificate, each replacing the old file at once.
fn store(dir: &Path, made: &SelfSigned) -> std::io::Result<()> {
    replace(
        dir,
        KEY_FILE,
        &pem("PRIVATE KEY", made.key.secret_der()),
        0o600,
    )?;
    replace(dir, CERT_FILE, &pem("CERTIFICATE", &made.cert), 0o644)?;
    // The renames reach the disk with the directory.
    fs::File::open(dir)?.sync_all()
}

/// Writes `text` to `dir/name` through a temporary file renamed over it.
fn replace(dir: &Path, name: &str, text: &str, mode: u32) -> std::io::Result<()> {
    let temp = dir.join(format!(".{name}.new"));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&temp)?;
    // Whatever the umask, and whatever a leftover temporary file had.
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    fs::rename(&temp, dir.join(name))
}

/// A PEM block: `label`, and `der` in base64, 64 characters a line.
fn pem(label: &str, der: &[u8]) -> String {
    let base64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut text = format!("-----BEGIN {label}-----\n");
    for line in base64.as_bytes().chunks(64) {
        text.push_str(&String::from_utf8_lossy(line));
        text.push('\n');
    }
    text + &format!("-----END {label}-----\n")
}

/// Whether a file can be made in `dir` (it is removed again).
fn writable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(".tls-auto-probe");
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&probe)?;
    fs::remove_file(probe)
}

/// Sets a stored key that others may read back to 0600, saying so.
fn keep_key_private(key: &Path) {
    let Ok(mode) = fs::metadata(key).map(|m| m.mode() & 0o777) else {
        return;
    };
    if mode & 0o077 != 0 {
        let fixed = fs::set_permissions(key, fs::Permissions::from_mode(0o600));
        log::warn!(path = key.display().to_string().as_str(), mode = format!("{mode:o}").as_str(), fixed = fixed.is_ok();
            "TLS_AUTO: the stored private key was readable by other users; set to 0600");
    }
}

/// Who the agent runs as and who owns the nearest existing directory on
/// the way to `dir`, and what to do: for the start-up error.
fn hint(dir: &Path) -> String {
    let uid = fs::read_to_string("/proc/self/status").ok().and_then(|s| {
        let line = s.lines().find_map(|l| l.strip_prefix("Uid:"))?;
        line.split_whitespace().nth(1).map(str::to_string)
    });
    let uid = uid.unwrap_or_else(|| "?".into());
    let owner = dir
        .ancestors()
        .find_map(|p| Some((p, fs::metadata(p).ok()?)))
        .map(|(p, m)| {
            format!(
                " and {} belongs to uid {} (mode {:o})",
                p.display(),
                m.uid(),
                m.mode() & 0o7777
            )
        })
        .unwrap_or_default();
    format!(
        "the agent runs as uid {uid}{owner}: give it a directory it can write, \
         such as a host directory owned by uid {uid} mounted there (docs/tls.md)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pem_block_reads_back() {
        let made = auto::generate("10.1.2.3").unwrap();
        let cert = pem("CERTIFICATE", &made.cert);
        let key = pem("PRIVATE KEY", made.key.secret_der());
        assert!(cert.lines().all(|l| l.len() <= 64), "{cert}");
        let kept = reusable(key.as_bytes(), cert.as_bytes(), "10.1.2.3").unwrap();
        assert_eq!(kept.cert, made.cert);
        assert_eq!(kept.key.secret_der(), made.key.secret_der());
    }

    #[test]
    fn another_host_a_foreign_key_or_garbage_is_not_reused() {
        let made = auto::generate("agent.example").unwrap();
        let other = auto::generate("agent.example").unwrap();
        let cert = pem("CERTIFICATE", &made.cert);
        let key = pem("PRIVATE KEY", made.key.secret_der());
        let foreign = pem("PRIVATE KEY", other.key.secret_der());
        let check = |key: &str, cert: &str, host: &str| {
            reusable(key.as_bytes(), cert.as_bytes(), host).map(|_| ())
        };
        assert!(check(&key, &cert, "Agent.Example").is_ok());
        let err = check(&key, &cert, "0.0.0.0").unwrap_err();
        assert!(
            err.contains("agent.example") && err.contains("HOST"),
            "{err}"
        );
        let err = check(&foreign, &cert, "agent.example").unwrap_err();
        assert!(err.contains("does not fit"), "{err}");
        let err = check(&key, "garbage", "agent.example").unwrap_err();
        assert!(err.contains(CERT_FILE), "{err}");
        let err = check("garbage", &cert, "agent.example").unwrap_err();
        assert!(err.contains(KEY_FILE), "{err}");
    }

    #[test]
    fn names_compare_as_certificates_do() {
        let n = |v: &[&str]| names(v.iter().map(|s| s.to_string()).collect());
        assert_eq!(
            n(&["LocalHost", "0:0:0:0:0:0:0:1", "127.0.0.1"]),
            n(&["127.0.0.1", "localhost", "::1"])
        );
        assert_ne!(n(&["localhost"]), n(&["localhost", "10.0.0.1"]));
    }
}
