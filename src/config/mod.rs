//! Settings, read once at start from the environment and `.env` and
//! validated before the agent binds a port. Every variable of the v1
//! contract keeps its name; the loader is split by section and takes a
//! [`Vars`] map so tests never touch the real environment.
//!
//! Access settings (scoped tokens, roles, scope, read-only modes) are the
//! `policy` section's.
//!
//! Secrets may also come from files (`SECRET_KEY_FILE`, ...; see the
//! `secrets` module). Missing secrets are generated (zero-config start) and
//! reported in [`Config::generated`] so `main` can print them once. An
//! explicitly weak or malformed value stops the start with a message naming
//! the variable.

mod audit;
mod fleet;
mod metrics;
mod policy;
mod secrets;
mod source;
mod tls;

pub use metrics::MetricsConfig;
pub use source::{Vars, parse_dotenv};

use crate::audit::AuditLog;
use crate::auth::AuthConfig;
use crate::http::cors::CorsConfig;
use crate::membership::FleetConfig;
use crate::policy::PolicyConfig;
use crate::tls::TlsConfig;

use crate::auth::jwt::Algorithm;
use crate::auth::secret::Secret;
use crate::docker::Endpoint;
use crate::net::Cidr;
use secrets::{GENERATE_HINT, SecretVar};
use std::fmt;
use std::time::Duration;

/// A setting that stops the start, with the variable's name and how to fix it.
#[derive(Debug)]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

impl ConfigError {
    pub fn new(var: &'static str, message: String) -> ConfigError {
        ConfigError { var, message }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.var, self.message)
    }
}

impl std::error::Error for ConfigError {}

#[derive(Debug, Clone)]
pub struct Config {
    pub app_name: String,
    pub debug: bool,
    pub server: ServerConfig,
    pub docker: DockerConfig,
    pub auth: AuthConfig,
    pub cors: CorsConfig,
    pub rate_limit: RateLimitConfig,
    pub mcp: McpConfig,
    pub tls: TlsConfig,
    /// Tokens, roles, scope and read-only modes.
    pub policy: PolicyConfig,
    /// `AUDIT_LOG`, opened: where the audit trail is also appended.
    pub audit_log: Option<AuditLog>,
    /// `GET /metrics`: whether it exists, its scraper token, its cache.
    pub metrics: MetricsConfig,
    /// The fleet this agent is a member of, if any.
    pub fleet: FleetConfig,
    /// Names of secrets generated at start because none was configured.
    pub generated: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub host: String,
    pub port: u16,
    pub max_connections: usize,
    /// Connections one TCP peer may hold open (IPv6 peers by /64), so one
    /// address cannot take every slot of `max_connections`.
    pub max_connections_per_client: usize,
    /// Addresses whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<Cidr>,
    /// How long in-flight requests may run after SIGTERM.
    pub shutdown_grace: Duration,
    /// How long a client may take to send a request's headers (slow-loris guard).
    pub header_read_timeout: Duration,
    /// How long a write to a client may make no progress before the
    /// connection is dropped (a client that stops reading its answer).
    pub write_timeout: Duration,
    /// How often WebSocket peers are pinged; two silent intervals drop them.
    pub ping_interval: Duration,
    /// `UI_ENABLED`: whether the dashboard is served at `/`.
    pub ui_enabled: bool,
}

#[derive(Debug, Clone)]
pub struct DockerConfig {
    pub endpoint: Endpoint,
    /// Upper bound on any single Docker call (actions add their own stop timeout).
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct RateLimitConfig {
    pub enabled: bool,
    /// Overall requests per client per `window`.
    pub requests: u32,
    pub window: Duration,
}

#[derive(Debug, Clone)]
pub struct McpConfig {
    pub enabled: bool,
    pub api_key: Secret,
    pub debug: bool,
    /// Items per page of `resources/list` (`MCP_PAGE_SIZE`).
    pub page_size: usize,
}

/// Shortest accepted `API_PASSWORD`, in characters.
pub const MIN_PASSWORD: usize = 12;
/// Longest accepted `API_PASSWORD`, in characters.
pub const MAX_PASSWORD: usize = 100;

/// `MAX_CONNECTIONS_PER_CLIENT` when unset (or `MAX_CONNECTIONS`, if lower):
/// a sixteenth of the default global cap.
pub const DEFAULT_CONNECTIONS_PER_CLIENT: usize = 128;

impl Config {
    /// Loads from a map: `.env` and the environment ([`Vars::from_process`]), or a test's own.
    pub fn from_vars(vars: &Vars) -> Result<Config, ConfigError> {
        let mut generated = Vec::new();
        let server = server_section(vars)?;
        Ok(Config {
            app_name: vars.string("APP_NAME", "Docker Agent"),
            debug: vars.bool("DEBUG", false)?,
            tls: tls::section(vars, &server.host)?,
            server,
            docker: docker_section(vars)?,
            auth: auth_section(vars, &mut generated)?,
            cors: cors_section(vars)?,
            rate_limit: rate_limit_section(vars)?,
            mcp: mcp_section(vars, &mut generated)?,
            policy: policy::section(vars)?,
            audit_log: audit::section(vars)?,
            metrics: metrics::section(vars)?,
            fleet: fleet::section(vars)?,
            generated,
        })
    }

    /// The socket address to bind, e.g. `0.0.0.0:9000` or `[::1]:9000`.
    pub fn bind_addr(&self) -> String {
        self.addr_on(self.server.port)
    }

    /// Where the fleet port listens: `HOST`, `FLEET_PORT`.
    pub fn fleet_bind_addr(&self) -> String {
        self.addr_on(self.fleet.port)
    }

    fn addr_on(&self, port: u16) -> String {
        let host = &self.server.host;
        if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        }
    }
}

fn server_section(vars: &Vars) -> Result<ServerConfig, ConfigError> {
    let trusted_proxies = vars
        .list("TRUSTED_PROXIES", &[])?
        .iter()
        .map(|s| {
            Cidr::parse(s).ok_or_else(|| {
                ConfigError::new(
                    "TRUSTED_PROXIES",
                    format!("{s:?} is not an IP address or CIDR block"),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let max_connections = vars.number("MAX_CONNECTIONS", 2048, 1, 1_000_000)?;
    let per_client = DEFAULT_CONNECTIONS_PER_CLIENT.min(max_connections);
    Ok(ServerConfig {
        host: vars.string("HOST", "0.0.0.0"),
        port: vars.number("PORT", 9000, 0, u16::MAX)?,
        max_connections,
        max_connections_per_client: vars.number(
            "MAX_CONNECTIONS_PER_CLIENT",
            per_client,
            1,
            max_connections,
        )?,
        trusted_proxies,
        shutdown_grace: Duration::from_secs(vars.number("SHUTDOWN_TIMEOUT", 8, 0, 3600)?),
        header_read_timeout: Duration::from_secs(vars.number("HEADER_READ_TIMEOUT", 15, 1, 600)?),
        write_timeout: Duration::from_secs(vars.number("WRITE_TIMEOUT", 30, 1, 3600)?),
        ping_interval: Duration::from_secs(vars.number("WS_PING_INTERVAL", 30, 1, 3600)?),
        ui_enabled: vars.bool("UI_ENABLED", true)?,
    })
}

fn docker_section(vars: &Vars) -> Result<DockerConfig, ConfigError> {
    let host = vars.string("DOCKER_HOST", "unix:///var/run/docker.sock");
    let endpoint = Endpoint::parse(&host).ok_or_else(|| {
        ConfigError::new(
            "DOCKER_HOST",
            format!(
                "{host:?} is not supported; use unix:///path/to/docker.sock or tcp://host:port"
            ),
        )
    })?;
    Ok(DockerConfig {
        endpoint,
        timeout: Duration::from_secs(vars.number("DOCKER_TIMEOUT", 30, 1, 3600)?),
    })
}

fn auth_section(vars: &Vars, generated: &mut Vec<&'static str>) -> Result<AuthConfig, ConfigError> {
    let secret_key = secret(vars, SECRET_KEY, 32, usize::MAX, generated)?;
    let alg = vars.string("ALGORITHM", "HS256");
    let algorithm = Algorithm::parse(&alg).ok_or_else(|| {
        ConfigError::new(
            "ALGORITHM",
            format!("{alg:?} is not supported; use HS256, HS384 or HS512"),
        )
    })?;
    let minutes: u64 = vars.number("ACCESS_TOKEN_EXPIRE_MINUTES", 30, 1, 525_600)?;
    let password = secret(vars, API_PASSWORD, MIN_PASSWORD, MAX_PASSWORD, generated)?;
    Ok(AuthConfig {
        secret_key,
        algorithm,
        token_ttl: Duration::from_secs(minutes * 60),
        username: vars.string("API_USERNAME", "admin"),
        password,
    })
}

const SECRET_KEY: SecretVar = SecretVar {
    name: "SECRET_KEY",
    file: "SECRET_KEY_FILE",
    generate: 32,
};
const API_PASSWORD: SecretVar = SecretVar {
    name: "API_PASSWORD",
    file: "API_PASSWORD_FILE",
    generate: 18,
};
const MCP_API_KEY: SecretVar = SecretVar {
    name: "MCP_API_KEY",
    file: "MCP_API_KEY_FILE",
    generate: 32,
};

/// A configured secret, checked for length (in characters) and strength, or
/// a generated one (`var.generate` random bytes as URL-safe text).
fn secret(
    vars: &Vars,
    var: SecretVar,
    min: usize,
    max: usize,
    generated: &mut Vec<&'static str>,
) -> Result<Secret, ConfigError> {
    if let Some(value) = optional_secret(vars, var, min, max)? {
        return Ok(value);
    }
    generated.push(var.name);
    Ok(Secret::new(crate::random::token(var.generate)))
}

/// A configured secret, checked as [`secret`] checks it; `None` when unset.
fn optional_secret(
    vars: &Vars,
    var: SecretVar,
    min: usize,
    max: usize,
) -> Result<Option<Secret>, ConfigError> {
    let Some(value) = secrets::read(vars, var)? else {
        return Ok(None);
    };
    let chars = value.chars().count();
    if chars < min {
        return Err(ConfigError::new(
            var.name,
            format!("must be at least {min} characters; {GENERATE_HINT}"),
        ));
    }
    if chars > max {
        return Err(ConfigError::new(
            var.name,
            format!("must be at most {max} characters"),
        ));
    }
    secrets::check_strength(var.name, &value)?;
    Ok(Some(Secret::new(value)))
}

fn cors_section(vars: &Vars) -> Result<CorsConfig, ConfigError> {
    let origins = vars.list("CORS_ORIGINS", &["*"])?;
    if let Some(bad) = origins.iter().find(|o| *o != "*" && !is_origin(o)) {
        return Err(ConfigError::new(
            "CORS_ORIGINS",
            format!(
                "{bad:?} is not an origin; write scheme://host[:port], e.g. https://dash.example.com, or *"
            ),
        ));
    }
    Ok(CorsConfig {
        origins,
        allow_credentials: vars.bool("CORS_ALLOW_CREDENTIALS", true)?,
        allow_methods: vars.list("CORS_ALLOW_METHODS", &["*"])?,
        allow_headers: vars.list("CORS_ALLOW_HEADERS", &["*"])?,
    })
}

/// Whether `s` is an origin as browsers send it: `scheme://host[:port]`
/// (a trailing `/` tolerated), with no path, query, fragment or user.
fn is_origin(s: &str) -> bool {
    let Some((scheme, rest)) = s.trim_end_matches('/').split_once("://") else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && !p.contains(']') => (h, Some(p)),
        _ => (rest, None),
    };
    let host_ok = !host.is_empty()
        && !host
            .chars()
            .any(|c| c.is_whitespace() || "/?#@\\".contains(c));
    scheme_ok && host_ok && port.is_none_or(|p| p.parse::<u16>().is_ok())
}

fn rate_limit_section(vars: &Vars) -> Result<RateLimitConfig, ConfigError> {
    Ok(RateLimitConfig {
        enabled: vars.bool("RATE_LIMIT_ENABLED", true)?,
        requests: vars.number("RATE_LIMIT_REQUESTS", 100, 1, 1_000_000)?,
        window: Duration::from_secs(vars.number("RATE_LIMIT_WINDOW", 60, 1, 86_400)?),
    })
}

fn mcp_section(vars: &Vars, generated: &mut Vec<&'static str>) -> Result<McpConfig, ConfigError> {
    Ok(McpConfig {
        enabled: vars.bool("MCP_ENABLED", true)?,
        api_key: secret(vars, MCP_API_KEY, 16, usize::MAX, generated)?,
        debug: vars.bool("MCP_DEBUG", false)?,
        page_size: vars.number("MCP_PAGE_SIZE", 50, 1, 1000)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_vars(&Vars::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn zero_config_generates_secrets_and_uses_defaults() {
        let c = load(&[]).unwrap();
        assert_eq!(c.generated, ["SECRET_KEY", "API_PASSWORD", "MCP_API_KEY"]);
        assert!(c.auth.secret_key.expose().len() >= 32);
        assert!(c.mcp.api_key.expose().len() >= 16);
        assert_eq!(c.bind_addr(), "0.0.0.0:9000");
        assert_eq!(c.auth.username, "admin");
        assert_eq!(c.auth.token_ttl, Duration::from_secs(1800));
        assert_eq!(c.rate_limit.requests, 100);
        assert_eq!(c.cors.origins, ["*"]);
        assert!(c.mcp.enabled && c.rate_limit.enabled && !c.debug);
        assert!(
            c.server.ui_enabled && !load(&[("UI_ENABLED", "false")]).unwrap().server.ui_enabled
        );
        assert_eq!(c.server.max_connections, 2048);
        assert_eq!(c.server.max_connections_per_client, 128);
        assert_eq!(c.server.write_timeout, Duration::from_secs(30));
    }

    #[test]
    fn the_per_client_connection_cap_fits_under_the_global_one() {
        let c = load(&[("MAX_CONNECTIONS", "50")]).unwrap();
        assert_eq!(
            c.server.max_connections_per_client, 50,
            "default follows a lower cap"
        );
        let c = load(&[
            ("MAX_CONNECTIONS", "50"),
            ("MAX_CONNECTIONS_PER_CLIENT", "50"),
        ])
        .unwrap();
        assert_eq!(c.server.max_connections_per_client, 50);
        for bad in ["0", "51", "many"] {
            let err = load(&[
                ("MAX_CONNECTIONS", "50"),
                ("MAX_CONNECTIONS_PER_CLIENT", bad),
            ])
            .unwrap_err();
            assert_eq!(err.var, "MAX_CONNECTIONS_PER_CLIENT", "{bad}");
            assert!(err.message.contains("between 1 and 50"), "{}", err.message);
        }
    }

    #[test]
    fn explicit_values_are_used() {
        let c = load(&[
            ("SECRET_KEY", "0123456789abcdef0123456789abcdef-key"),
            ("API_PASSWORD", "a-long-password"),
            ("MCP_API_KEY", "0123456789abcdef"),
            ("ALGORITHM", "HS512"),
            ("HOST", "::1"),
            ("PORT", "0"),
            ("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1"),
            ("CORS_ORIGINS", "https://a.example,https://b.example"),
            ("RATE_LIMIT_ENABLED", "false"),
        ])
        .unwrap();
        assert!(c.generated.is_empty());
        assert_eq!(c.auth.algorithm, Algorithm::HS512);
        assert_eq!(c.bind_addr(), "[::1]:0");
        assert_eq!(c.server.trusted_proxies.len(), 2);
        assert_eq!(c.cors.origins.len(), 2);
        assert!(!c.rate_limit.enabled);
    }

    #[test]
    fn weak_or_malformed_values_stop_the_start() {
        let cases: &[(&str, &str)] = &[
            ("SECRET_KEY", "short"),
            ("SECRET_KEY", "changeme"),
            ("MCP_API_KEY", "tooshort"),
            ("API_PASSWORD", "eleven-char"),
            ("API_PASSWORD", "changeme"),
            ("SECRET_KEY", &"a".repeat(36)),
            ("MCP_API_KEY", "your-mcp-api-key-at-least-16-chars"),
            ("ALGORITHM", "none"),
            ("ALGORITHM", "RS256"),
            ("PORT", "http"),
            ("ACCESS_TOKEN_EXPIRE_MINUTES", "0"),
            ("RATE_LIMIT_REQUESTS", "-5"),
            ("RATE_LIMIT_WINDOW", "1.5"),
            ("DEBUG", "sometimes"),
            ("TRUSTED_PROXIES", "10.0.0.0/99"),
            ("DOCKER_HOST", "npipe:////./pipe/docker_engine"),
            ("MAX_CONNECTIONS_PER_CLIENT", "4096"),
            ("WRITE_TIMEOUT", "0"),
            ("CORS_ORIGINS", "not-a-url"),
            ("CORS_ORIGINS", "https://ok.example, dash.example"),
            ("CORS_ORIGINS", "https://dash.example/app"),
            ("CORS_ORIGINS", "https://dash.example:http"),
            ("CORS_ORIGINS", "null"),
            ("MCP_CONFIRM", "always"),
            ("UI_ENABLED", "hidden"),
        ];
        for (var, value) in cases {
            let err = load(&[(var, value)]).unwrap_err();
            assert_eq!(err.var, *var, "{var}={value}");
            assert!(!err.message.is_empty());
        }
    }

    #[test]
    fn origins_are_scheme_host_and_port() {
        for good in [
            "*",
            "https://dash.example",
            "https://dash.example/",
            "http://localhost:3000",
            "http://[::1]:8080",
            "http://[::1]",
            "chrome-extension://abcdef",
        ] {
            assert!(load(&[("CORS_ORIGINS", good)]).is_ok(), "{good}");
        }
    }

    #[test]
    fn error_message_explains_the_fix_without_echoing_the_secret() {
        let err = load(&[("SECRET_KEY", "tiny-secret")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("SECRET_KEY") && err.contains("openssl rand"),
            "{err}"
        );
        assert!(!err.contains("tiny-secret"));
    }
}
