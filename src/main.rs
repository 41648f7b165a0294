//! The `docker-agent` command: parse arguments, load and validate the
//! configuration, print generated secrets once, check once that Docker can
//! be reached (warning, with the fix, if not), then serve until SIGTERM.
//! `serve --host` overrides `HOST` (the image's command); `token new` makes
//! a scoped API token; `healthcheck` probes a running agent.
#![forbid(unsafe_code)]

use docker_agent::app::App;
use docker_agent::config::{Config, Vars};
use docker_agent::server::Listening;
use docker_agent::startup::{self, Notice};
use docker_agent::tls::Tls;
use std::process::ExitCode;
use std::sync::Arc;

const HELP: &str = "\
docker-agent — manage and watch this host's Docker containers remotely: a
REST API (/api/v1), live WebSocket streams of logs, stats, events and exec
(/api/v1/.../ws), MCP for AI assistants (/mcp, legacy SSE at /mcp/sse), a
dashboard at http://HOST:PORT/ and Prometheus metrics at
http://HOST:PORT/metrics (https:// with TLS), all on one port; the start
prints both URLs.

USAGE:
    docker-agent            serve on HOST:PORT (default 0.0.0.0:9000)
    docker-agent serve [--host ADDR]
                            the same; --host listens on ADDR whatever HOST
                            says (the image runs `serve --host 0.0.0.0`, so a
                            HOST=127.0.0.1 meant for `cargo run` cannot
                            leave its published port dead)
    docker-agent healthcheck [--host ADDR]
                            probe /api/v1/healthz on the configured port;
                            exit 0 if the agent is up and reaches Docker,
                            1 if not, saying why (for HEALTHCHECK and
                            readiness probes)
    docker-agent token new --name NAME --role read|operate|admin [--marks M]
                            make a scoped API token: prints the token
                            alone on line 1 and the line to add to
                            API_TOKENS_FILE on line 2; M restricts it on
                            every surface: mcp (as the MCP key: MCP_READ_ONLY,
                            MCP_CONFIRM, MCP_REDACT_ENV), read-only,
                            confirm=destructive|actions, redact-env
    docker-agent --help     show this help
    docker-agent --version  show the version

Configuration comes from the environment and a .env file in the working
directory (the environment wins). Main variables:
    HOST, PORT            where to listen (0.0.0.0, 9000)
    TLS_CERT_FILE, TLS_KEY_FILE
                          PEM certificate chain and key: serve HTTPS/WSS
                          (reloaded when the files change or on SIGHUP)
    TLS_CLIENT_CA_FILE    require client certificates signed by this CA
    TLS_AUTO              true: generate a self-signed certificate (false)
    TLS_AUTO_DIR          keep it (key 0600) in this writable directory, so
                          it and its fingerprint survive restarts
    REQUIRE_TLS           true: refuse plain text on a non-loopback HOST
    PLAIN_HTTP_EXPOSURE   loopback or tls-proxy: what alone reaches a plain
                          HTTP port on a non-loopback HOST (a port published
                          on 127.0.0.1 only, a TLS proxy), which the agent
                          cannot see from a container; silences the warning
                          and never lifts REQUIRE_TLS
    DOCKER_HOST           unix:///var/run/docker.sock or tcp://host:port
    API_USERNAME          login name (admin)
    API_PASSWORD          login password (generated and printed if unset)
    SECRET_KEY            JWT signing key, >= 32 chars (generated if unset)
    MCP_API_KEY           MCP key, >= 16 chars (generated and printed if unset)
    API_TOKENS_FILE       scoped API tokens, one `NAME ROLE SHA256HEX` a line
                          (reloaded on SIGHUP)
    API_ROLE, MCP_ROLE    role of the login and of the MCP key (admin)
    SCOPE_LABEL, SCOPE_NAMES, EXCLUDE_LABEL
                          which containers the agent shows and touches
    READ_ONLY, MCP_READ_ONLY
                          true: refuse every change (on MCP only)
    CORS_ORIGINS          comma-separated origins (*)
    RATE_LIMIT_ENABLED    true/false (true)
    TRUSTED_PROXIES       proxies whose X-Forwarded-For is believed
    MAX_CONNECTIONS       open connections at once (2048)
    MAX_CONNECTIONS_PER_CLIENT
                          open connections per client address (128)
    AUDIT_LOG             also append the audit trail to this file (0600)
    DEBUG                 readable coloured logs instead of JSON (false)
See docs/configuration.md for the full table.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => serve(Vars::from_process()),
        Some(command @ ("serve" | "healthcheck")) => match settings(&args[1..]) {
            Some(vars) if command == "serve" => serve(vars),
            Some(vars) => healthcheck(vars),
            None => {
                eprintln!("docker-agent: usage: docker-agent {command} [--host ADDR]");
                ExitCode::from(2)
            }
        },
        Some("token") => token(std::env::args().skip(2).collect()),
        Some("-h" | "--help") => {
            print!("{HELP}");
            ExitCode::SUCCESS
        }
        Some("-V" | "--version") => {
            println!("docker-agent {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("docker-agent: unknown argument {other:?}; try --help");
            ExitCode::from(2)
        }
    }
}

/// The settings from `.env` and the environment, with `--host ADDR` (the
/// only option of `serve` and `healthcheck`) in place of `HOST`; `None` for
/// any other arguments.
fn settings(args: &[String]) -> Option<Vars> {
    let vars = Vars::from_process();
    match args {
        [] => Some(vars),
        [flag, host] if flag == "--host" => Some(vars.with("HOST", host)),
        _ => None,
    }
}

fn serve(vars: Vars) -> ExitCode {
    let config = match Config::from_vars(&vars) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("docker-agent: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    docker_agent::logging::init(config.debug, config.mcp.debug);
    announce_generated(&config);
    let tls = match Tls::start(&config.tls, &config.server.host) {
        Ok(started) => started,
        Err(e) => {
            eprintln!(
                "docker-agent: invalid configuration: {}: {}",
                e.var, e.message
            );
            return ExitCode::from(2);
        }
    };
    if let Some(fingerprint) = tls.as_ref().and_then(|t| t.fingerprint.as_ref()) {
        eprintln!("docker-agent: TLS certificate SHA-256 fingerprint: {fingerprint}");
    }
    let fleet = match fleet_tls(&config) {
        Ok(fleet) => fleet,
        Err(e) => {
            eprintln!(
                "docker-agent: invalid configuration: {}: {}",
                e.var, e.message
            );
            return ExitCode::from(2);
        }
    };
    let own = docker_agent::policy::own::detect();
    warn_if_exposed(&config, own.is_some());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("docker-agent: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config, own, tls.map(|t| t.tls), fleet)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("docker-agent: {e}");
            ExitCode::FAILURE
        }
    }
}

fn healthcheck(vars: Vars) -> ExitCode {
    use docker_agent::healthcheck::{probe, target};
    let port = match vars.number("PORT", 9000u16, 0, u16::MAX) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("docker-agent healthcheck: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addr = target(&vars.string("HOST", "0.0.0.0"), port);
    match probe(addr, std::time::Duration::from_secs(3)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("docker-agent healthcheck: unhealthy: {why}");
            ExitCode::FAILURE
        }
    }
}

/// `token new --name N --role R`: a new scoped token on line 1 of stdout,
/// its tokens-file line on line 2.
fn token(args: Vec<String>) -> ExitCode {
    use docker_agent::policy::{Role, tokens};
    let usage = "usage: docker-agent token new --name NAME --role read|operate|admin [--marks M]";
    let (mut name, mut role, mut marks) = (None, None, None);
    let mut rest = args.iter().map(String::as_str);
    let parsed = rest.next() == Some("new")
        && std::iter::from_fn(|| Some((rest.next()?, rest.next()))).all(|(flag, value)| {
            match (flag, value) {
                ("--name", Some(v)) => name.replace(v).is_none(),
                ("--role", Some(v)) => role.replace(v).is_none(),
                ("--marks", Some(v)) => marks.replace(v).is_none(),
                _ => false,
            }
        });
    let (Some(name), Some(role), true) = (name, role, parsed) else {
        eprintln!("docker-agent token: {usage}");
        return ExitCode::from(2);
    };
    if let Err(e) = tokens::check_name(name) {
        eprintln!("docker-agent token: {e}");
        return ExitCode::from(2);
    }
    let Some(role) = Role::parse(role) else {
        eprintln!("docker-agent token: role {role:?} is not read, operate or admin");
        return ExitCode::from(2);
    };
    let marks = match marks.map(tokens::Marks::parse).transpose() {
        Ok(m) => m.unwrap_or_default(),
        Err(e) => {
            eprintln!("docker-agent token: {e}");
            return ExitCode::from(2);
        }
    };
    let token = tokens::generate();
    println!("{token}");
    println!("{}", tokens::marked_line(name, role, &token, marks));
    ExitCode::SUCCESS
}

/// Prints generated login password and MCP key once, on stderr, outside the log stream.
fn announce_generated(config: &Config) {
    for name in &config.generated {
        match *name {
            "API_PASSWORD" => eprintln!(
                "docker-agent: generated API_PASSWORD for user {:?}: {}",
                config.auth.username,
                config.auth.password.expose()
            ),
            "MCP_API_KEY" => eprintln!(
                "docker-agent: generated MCP_API_KEY: {}",
                config.mcp.api_key.expose()
            ),
            _ => eprintln!(
                "docker-agent: generated {name}; set it to keep tokens valid across restarts"
            ),
        }
    }
}

/// Warns when a plain-text listener may let credentials cross the network
/// (worded for a container, which cannot see where its port is published),
/// or records the operator's `PLAIN_HTTP_EXPOSURE`.
fn warn_if_exposed(config: &Config, in_container: bool) {
    let host = config.server.host.as_str();
    let notice = startup::plain_text(
        config.tls.enabled(),
        host,
        config.tls.plain_exposure,
        in_container,
    );
    match notice {
        Some(Notice::Exposed(text)) => log::warn!(host = host; "{text}"),
        Some(Notice::Acknowledged(text)) => log::info!(host = host; "{text}"),
        None => {}
    }
}

/// The fleet port's TLS and the configuration to dial the other agents
/// with, when this agent is part of a fleet.
fn fleet_tls(config: &Config) -> Result<Option<FleetTls>, docker_agent::tls::MaterialError> {
    let Some(trust) = &config.fleet.trust else {
        return Ok(None);
    };
    Ok(Some(FleetTls {
        server: Tls::fleet(trust)?,
        client: docker_agent::tls::fleet_client(trust)?,
    }))
}

struct FleetTls {
    server: Arc<Tls>,
    client: Arc<rustls::ClientConfig>,
}

async fn bind(addr: &str) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))
}

async fn run(
    config: Config,
    own: Option<String>,
    tls: Option<Arc<Tls>>,
    fleet: Option<FleetTls>,
) -> std::io::Result<()> {
    let listener = bind(&config.bind_addr()).await?;
    let fleet_port = match &fleet {
        Some(f) => {
            let addr = config.fleet_bind_addr();
            let listener = bind(&addr).await?;
            eprintln!("docker-agent: fleet port {addr} (mutual TLS with the fleet's CA)");
            Some(Listening {
                listener,
                tls: Some(f.server.clone()),
                fleet: true,
            })
        }
        None => None,
    };
    let stop = docker_agent::signal::terminate();
    let pages = startup::Pages {
        dashboard: config.server.ui_enabled,
        metrics: config.metrics.enabled,
    };
    let in_container = own.is_some();
    let app = App::in_fleet(config, own, fleet.as_ref().map(|f| f.client.clone()));
    let reload = docker_agent::policy::reload::on_hangup(app.policy.clone());
    let bound = listener.local_addr()?;
    log::info!(
        address = bound.to_string().as_str(),
        version = env!("CARGO_PKG_VERSION");
        "docker-agent listening"
    );
    for line in startup::urls(bound, tls.is_some(), pages, in_container) {
        eprintln!("docker-agent: {line}");
    }
    if let Some(reload) = reload {
        tokio::spawn(reload);
    }
    let check = app.clone();
    tokio::spawn(async move { check.service.check_at_start().await });
    if let Some(tls) = &tls {
        tokio::spawn(docker_agent::tls::watch(tls.clone()));
    }
    if let Some(f) = &fleet {
        tokio::spawn(docker_agent::tls::watch(f.server.clone()));
    }
    // Outside a fleet too: `/api/v1/hosts` lists this host as probed.
    tokio::spawn(app.fleet.clone().run());
    let api = Listening {
        listener,
        tls,
        fleet: false,
    };
    let ports = std::iter::once(api).chain(fleet_port).collect();
    docker_agent::server::serve(ports, app.clone(), stop).await;
    app.audit.close();
    log::info!("docker-agent stopped");
    Ok(())
}
