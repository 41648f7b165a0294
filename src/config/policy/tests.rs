use super::*;

fn load(pairs: &[(&str, &str)]) -> Result<PolicyConfig, ConfigError> {
    section(&Vars::from_pairs(pairs.iter().copied()))
}

#[test]
fn defaults_leave_everything_open_to_admins() {
    let c = load(&[]).unwrap();
    assert_eq!((c.login_role, c.mcp_role), (Role::Admin, Role::Admin));
    assert!(!c.scope.active() && !c.read_only && !c.mcp_key.read_only);
    assert_eq!(c.mcp_key.confirm, Confirm::Destructive);
    assert!(c.mcp_key.redact_env, "MCP_REDACT_ENV defaults to true");
    assert!(!c.host.allowed && c.host.bind_prefixes.is_empty());
    assert!(!c.exec_enabled, "exec is off unless asked for");
    assert!(c.tokens.is_empty() && c.tokens_file.is_none());
    assert!(c.image_allow.is_empty());
}

#[test]
fn settings_are_read() {
    let c = load(&[
        ("API_ROLE", "operate"),
        ("MCP_ROLE", "read"),
        ("SCOPE_LABEL", "agent.expose=true"),
        ("SCOPE_NAMES", "web-*, db"),
        ("EXCLUDE_LABEL", "private"),
        ("READ_ONLY", "true"),
        ("MCP_READ_ONLY", "yes"),
        ("IMAGE_ALLOW", "alpine, 127.0.0.1:5000/*"),
        ("ALLOW_HOST_ACCESS", "true"),
        ("ALLOW_BIND_MOUNTS_FROM", "/srv/data/, /opt//apps"),
        ("EXEC_ENABLED", "true"),
    ])
    .unwrap();
    assert!(c.host.allowed);
    assert_eq!(
        c.host.bind_prefixes,
        [PathBuf::from("/srv/data"), PathBuf::from("/opt/apps")]
    );
    assert_eq!((c.login_role, c.mcp_role), (Role::Operate, Role::Read));
    assert_eq!(c.scope.names, ["web-*", "db"]);
    assert_eq!(c.scope.label.unwrap().to_string(), "agent.expose=true");
    assert_eq!(c.scope.exclude.unwrap().to_string(), "private");
    assert!(c.read_only && c.mcp_key.read_only && c.exec_enabled);
    let other = load(&[("MCP_CONFIRM", "actions"), ("MCP_REDACT_ENV", "false")]).unwrap();
    assert_eq!(other.mcp_key.confirm, Confirm::Actions);
    assert!(!other.mcp_key.redact_env);
    assert_eq!(c.image_allow, ["alpine", "127.0.0.1:5000/*"]);
}

#[test]
fn bad_settings_name_the_variable() {
    for (var, value) in [
        ("API_ROLE", "root"),
        ("MCP_ROLE", "Admin"),
        ("SCOPE_LABEL", "=true"),
        ("EXCLUDE_LABEL", "a b"),
        ("SCOPE_NAMES", "web/*"),
        ("READ_ONLY", "sometimes"),
        ("MCP_CONFIRM", "always"),
        ("MCP_REDACT_ENV", "maybe"),
        ("IMAGE_ALLOW", "alpine, a b"),
        ("EXEC_ENABLED", "maybe"),
        ("API_TOKENS_FILE", "/nonexistent/tokens"),
        ("ALLOW_HOST_ACCESS", "maybe"),
        ("ALLOW_BIND_MOUNTS_FROM", "srv/data"),
        ("ALLOW_BIND_MOUNTS_FROM", "/srv/../etc"),
        ("IMAGE_ALLOW", "alpine latest"),
    ] {
        let err = load(&[(var, value)]).unwrap_err();
        assert_eq!(err.var, var, "{var}={value}");
    }
}

#[test]
fn a_bad_tokens_line_names_the_file_and_the_line() {
    let path =
        std::env::temp_dir().join(format!("docker-agent-tokens-{}", crate::random::token(8)));
    std::fs::write(&path, "# ok\nci read nothex\n").unwrap();
    let err = load(&[("API_TOKENS_FILE", path.to_str().unwrap())]).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(err.var, "API_TOKENS_FILE");
    let shown = err.to_string();
    assert!(
        shown.contains(path.to_str().unwrap()) && shown.contains("line 2: the hash"),
        "{shown}"
    );
}
