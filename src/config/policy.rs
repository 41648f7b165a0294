//! Access settings: scoped tokens (`API_TOKENS_FILE`, read here at start so
//! a bad line stops the start), the roles of the login and the MCP key
//! (`API_ROLE`, `MCP_ROLE`), container scope (`SCOPE_LABEL`, `SCOPE_NAMES`,
//! `EXCLUDE_LABEL`), the read-only mode (`READ_ONLY`), what the MCP key is
//! kept from (`MCP_READ_ONLY`, `MCP_CONFIRM`, `MCP_REDACT_ENV`),
//! the images that may be pulled or created (`IMAGE_ALLOW`), what created
//! containers may take from the host (`ALLOW_HOST_ACCESS`,
//! `ALLOW_BIND_MOUNTS_FROM`) and whether commands may be run in containers
//! (`EXEC_ENABLED`, off by default).
//! What they mean is [`crate::policy`]'s business.

use super::{ConfigError, Vars};
use crate::policy::PolicyConfig;
use crate::policy::scope::{LabelRule, check_glob};
use crate::policy::{Confirm, HostAccess, Restrictions, Role, Scope, TokenSet, host, images};
use std::path::PathBuf;

pub fn section(vars: &Vars) -> Result<PolicyConfig, ConfigError> {
    let tokens_file = vars.get("API_TOKENS_FILE").map(PathBuf::from);
    let tokens = match &tokens_file {
        Some(path) => TokenSet::load(path).map_err(|e| ConfigError::new("API_TOKENS_FILE", e))?,
        None => TokenSet::default(),
    };
    Ok(PolicyConfig {
        tokens_file,
        tokens,
        login_role: role(vars, "API_ROLE")?,
        mcp_role: role(vars, "MCP_ROLE")?,
        scope: scope(vars)?,
        read_only: vars.bool("READ_ONLY", false)?,
        mcp_key: Restrictions {
            read_only: vars.bool("MCP_READ_ONLY", false)?,
            confirm: confirm(vars)?,
            redact_env: vars.bool("MCP_REDACT_ENV", true)?,
        },
        image_allow: image_allow(vars)?,
        host: host_access(vars)?,
        created_by: vars.string("APP_NAME", "Docker Agent"),
        exec_enabled: vars.bool("EXEC_ENABLED", false)?,
    })
}

fn host_access(vars: &Vars) -> Result<HostAccess, ConfigError> {
    let bind_prefixes = vars
        .list("ALLOW_BIND_MOUNTS_FROM", &[])?
        .iter()
        .map(|p| {
            host::normalise(p).ok_or_else(|| {
                ConfigError::new(
                    "ALLOW_BIND_MOUNTS_FROM",
                    format!("{p:?} is not an absolute path without '..'"),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(HostAccess {
        allowed: vars.bool("ALLOW_HOST_ACCESS", false)?,
        bind_prefixes,
    })
}

fn confirm(vars: &Vars) -> Result<Confirm, ConfigError> {
    let value = vars.string("MCP_CONFIRM", "destructive");
    Confirm::parse(value.trim()).ok_or_else(|| {
        ConfigError::new(
            "MCP_CONFIRM",
            format!("{value:?} is not a mode; use destructive, actions or off"),
        )
    })
}

fn image_allow(vars: &Vars) -> Result<Vec<String>, ConfigError> {
    let globs = vars.list("IMAGE_ALLOW", &[])?;
    match globs.iter().find_map(|g| images::check_glob(g).err()) {
        Some(e) => Err(ConfigError::new("IMAGE_ALLOW", e)),
        None => Ok(globs),
    }
}

fn role(vars: &Vars, var: &'static str) -> Result<Role, ConfigError> {
    let Some(value) = vars.get(var) else {
        return Ok(Role::Admin);
    };
    Role::parse(value.trim()).ok_or_else(|| {
        ConfigError::new(
            var,
            format!("{value:?} is not a role; use read, operate or admin"),
        )
    })
}

fn label(vars: &Vars, var: &'static str) -> Result<Option<LabelRule>, ConfigError> {
    vars.get(var)
        .map(|v| LabelRule::parse(v).map_err(|e| ConfigError::new(var, e)))
        .transpose()
}

fn scope(vars: &Vars) -> Result<Scope, ConfigError> {
    let names = vars.list("SCOPE_NAMES", &[])?;
    if let Some(e) = names.iter().find_map(|n| check_glob(n).err()) {
        return Err(ConfigError::new("SCOPE_NAMES", e));
    }
    Ok(Scope {
        label: label(vars, "SCOPE_LABEL")?,
        names,
        exclude: label(vars, "EXCLUDE_LABEL")?,
    })
}

#[cfg(test)]
mod tests {
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
}
