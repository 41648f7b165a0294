//! `METRICS_ENABLED`, `METRICS_TOKEN` (or `METRICS_TOKEN_FILE`) and
//! `METRICS_CACHE_SECONDS`: the Prometheus endpoint's settings. The token is
//! a scraper's secret of its own, checked like the other secrets; unset,
//! only a `read` token opens `/metrics` (none is generated).

use super::secrets::SecretVar;
use super::{ConfigError, Vars, optional_secret};
use crate::auth::secret::Secret;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct MetricsConfig {
    /// `false` removes `/metrics` (404).
    pub enabled: bool,
    /// A bearer secret that opens `/metrics` and nothing else.
    pub token: Option<Secret>,
    /// How long one collection of container figures serves every scrape.
    pub cache: Duration,
}

const METRICS_TOKEN: SecretVar = SecretVar {
    name: "METRICS_TOKEN",
    file: "METRICS_TOKEN_FILE",
    generate: 0,
};

pub fn section(vars: &Vars) -> Result<MetricsConfig, ConfigError> {
    Ok(MetricsConfig {
        enabled: vars.bool("METRICS_ENABLED", true)?,
        token: optional_secret(vars, METRICS_TOKEN, 16, 256)?,
        cache: Duration::from_secs(vars.number("METRICS_CACHE_SECONDS", 5, 0, 300)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<MetricsConfig, ConfigError> {
        section(&Vars::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn metrics_are_on_without_a_token_by_default() {
        let c = load(&[]).unwrap();
        assert!(c.enabled && c.token.is_none());
        assert_eq!(c.cache, Duration::from_secs(5));
        let off = load(&[("METRICS_ENABLED", "false"), ("METRICS_CACHE_SECONDS", "0")]);
        let off = off.unwrap();
        assert!(!off.enabled && off.cache.is_zero());
        let token = load(&[("METRICS_TOKEN", "scrape-0123456789abcdef")]).unwrap();
        assert!(token.token.unwrap().matches("scrape-0123456789abcdef"));
    }

    #[test]
    fn a_weak_token_or_a_bad_setting_stops_the_start() {
        for (var, value) in [
            ("METRICS_TOKEN", "short"),
            ("METRICS_TOKEN", "changeme"),
            ("METRICS_TOKEN", "aaaaaaaaaaaaaaaaaaaaaaaa"),
            ("METRICS_ENABLED", "perhaps"),
            ("METRICS_CACHE_SECONDS", "301"),
        ] {
            let err = load(&[(var, value)]).unwrap_err();
            assert_eq!(err.var, var, "{var}={value}");
            if var == "METRICS_TOKEN" {
                assert!(!err.message.contains(value), "{err}");
            }
        }
    }
}
