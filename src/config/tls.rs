//! TLS settings: where the certificate comes from (`TLS_CERT_FILE` and
//! `TLS_KEY_FILE`, or `TLS_AUTO`, kept in `TLS_AUTO_DIR` when it is set),
//! whether clients must present one signed by `TLS_CLIENT_CA_FILE`,
//! whether listening in plain text on a non-loopback address is refused
//! (`REQUIRE_TLS`), and what the operator says reaches a plain-text port
//! the agent cannot judge itself (`PLAIN_HTTP_EXPOSURE`: it only silences a
//! warning, never lifts `REQUIRE_TLS`). The files themselves are read by
//! [`crate::tls`], which also reloads them.

use super::{ConfigError, Vars};
use crate::net::is_loopback;
use crate::tls::{PlainExposure, TlsConfig, TlsSource};
use std::path::PathBuf;

/// Reads and cross-checks the TLS variables for an agent listening on `host`.
pub fn section(vars: &Vars, host: &str) -> Result<TlsConfig, ConfigError> {
    let path = |name: &str| vars.get(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let auto = vars.bool("TLS_AUTO", false)?;
    let source = match (path("TLS_CERT_FILE"), path("TLS_KEY_FILE"), auto) {
        (Some(_), _, true) | (_, Some(_), true) => {
            return Err(ConfigError::new(
                "TLS_AUTO",
                "set either TLS_AUTO=true or TLS_CERT_FILE and TLS_KEY_FILE, not both".into(),
            ));
        }
        (Some(cert), Some(key), false) => TlsSource::Files { cert, key },
        (Some(_), None, false) => return Err(missing("TLS_KEY_FILE", "TLS_CERT_FILE")),
        (None, Some(_), false) => return Err(missing("TLS_CERT_FILE", "TLS_KEY_FILE")),
        (None, None, true) => TlsSource::Auto {
            dir: path("TLS_AUTO_DIR"),
        },
        (None, None, false) => TlsSource::Off,
    };
    if path("TLS_AUTO_DIR").is_some() && !auto {
        return Err(ConfigError::new(
            "TLS_AUTO_DIR",
            "it keeps the certificate TLS_AUTO generates: set TLS_AUTO=true too".into(),
        ));
    }
    let client_ca = path("TLS_CLIENT_CA_FILE");
    if client_ca.is_some() && source == TlsSource::Off {
        return Err(ConfigError::new(
            "TLS_CLIENT_CA_FILE",
            "mutual TLS needs TLS: set TLS_CERT_FILE and TLS_KEY_FILE, or TLS_AUTO=true".into(),
        ));
    }
    let plain_exposure = plain_exposure(vars)?;
    if vars.bool("REQUIRE_TLS", false)? && source == TlsSource::Off && !is_loopback(host) {
        let exposure = plain_exposure.map_or(String::new(), |e| {
            format!(
                "; PLAIN_HTTP_EXPOSURE={} only silences the warning about plain text and \
                 does not lift REQUIRE_TLS: unset one of the two",
                e.as_str()
            )
        });
        return Err(ConfigError::new(
            "REQUIRE_TLS",
            format!(
                "HOST={host} is reachable from other machines but TLS is off; set TLS_CERT_FILE \
                 and TLS_KEY_FILE (or TLS_AUTO=true), or listen on 127.0.0.1 behind a TLS \
                 proxy{exposure}"
            ),
        ));
    }
    Ok(TlsConfig {
        source,
        client_ca,
        plain_exposure,
    })
}

fn plain_exposure(vars: &Vars) -> Result<Option<PlainExposure>, ConfigError> {
    let Some(value) = vars.get("PLAIN_HTTP_EXPOSURE") else {
        return Ok(None);
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "loopback" => Ok(Some(PlainExposure::Loopback)),
        "tls-proxy" => Ok(Some(PlainExposure::TlsProxy)),
        _ => Err(ConfigError::new(
            "PLAIN_HTTP_EXPOSURE",
            format!(
                "{value:?} is not loopback (the port is published on 127.0.0.1 only) or \
                 tls-proxy (only a reverse proxy that ends TLS reaches it)"
            ),
        )),
    }
}

fn missing(var: &'static str, other: &str) -> ConfigError {
    ConfigError::new(var, format!("{other} is set: set {var} too (PEM)"))
}

#[cfg(test)]
mod tests;
