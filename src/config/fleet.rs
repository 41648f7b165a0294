//! `FLEET_*`: the fleet this agent is a member of ([`crate::membership`]):
//! its certificates, its port, how it finds the others and its name.
//! Without `FLEET_CA_FILE` the agent serves its own host alone, and a
//! setting that needs the certificates stops the start naming them.

use super::{ConfigError, Vars};
use crate::membership::{
    DEFAULT_PORT, FleetConfig, TrustFiles, parse_address, parse_peers, parse_url, valid_name,
};
use std::path::PathBuf;
use std::time::Duration;

/// The three certificate settings, all or none.
const TRUST: [&str; 3] = ["FLEET_CA_FILE", "FLEET_CERT_FILE", "FLEET_KEY_FILE"];

pub fn section(vars: &Vars) -> Result<FleetConfig, ConfigError> {
    let name = match vars.get("FLEET_NAME").map(str::trim) {
        None | Some("") => None,
        Some(n) if valid_name(n) => Some(n.to_string()),
        Some(n) => {
            let why = format!("{n:?} is not a host name (letters, digits, '.', '_' or '-')");
            return Err(ConfigError::new("FLEET_NAME", why));
        }
    };
    let peers = parse_peers(&vars.list("FLEET_PEERS", &[])?)
        .map_err(|why| ConfigError::new("FLEET_PEERS", why))?;
    let dns = match vars.get("FLEET_DNS").map(str::trim) {
        None | Some("") => None,
        Some(d) => Some(parse_address(d).map_err(|why| ConfigError::new("FLEET_DNS", why))?),
    };
    let join = match vars.get("FLEET_JOIN").map(str::trim) {
        None | Some("") => None,
        Some(url) => Some(parse_url(url).map_err(|why| ConfigError::new("FLEET_JOIN", why))?),
    };
    let port = vars.number("FLEET_PORT", DEFAULT_PORT, 1, u16::MAX)?;
    if vars.get("PORT").and_then(|p| p.trim().parse::<u16>().ok()) == Some(port)
        || (vars.get("PORT").is_none() && port == 9000)
    {
        let why = format!("{port} is the API's PORT too: the fleet port is another one");
        return Err(ConfigError::new("FLEET_PORT", why));
    }
    let probe_every = Duration::from_secs(vars.number("FLEET_PROBE_INTERVAL", 10, 1, 3600)?);
    let file = |value: Option<&str>| {
        let value = value.map(str::trim).filter(|v| !v.is_empty());
        value.map(PathBuf::from)
    };
    let files = [
        file(vars.get("FLEET_CA_FILE")),
        file(vars.get("FLEET_CERT_FILE")),
        file(vars.get("FLEET_KEY_FILE")),
    ];
    let trust = match &files {
        [Some(ca), Some(cert), Some(key)] => Some(TrustFiles {
            ca: ca.clone(),
            cert: cert.clone(),
            key: key.clone(),
        }),
        [None, None, None] => None,
        _ => {
            let (set, unset): (Vec<_>, Vec<_>) =
                TRUST.iter().zip(&files).partition(|(_, f)| f.is_some());
            let name =
                |v: Vec<(&&str, _)>| v.iter().map(|(n, _)| **n).collect::<Vec<_>>().join(", ");
            let first = *unset[0].0;
            let why = format!(
                "{} set without {}: the fleet needs all three",
                name(set),
                name(unset)
            );
            return Err(ConfigError::new(first, why));
        }
    };
    let needs_trust = [
        ("FLEET_PEERS", !peers.is_empty()),
        ("FLEET_DNS", dns.is_some()),
        ("FLEET_JOIN", join.is_some()),
    ];
    if let (None, Some((var, _))) = (&trust, needs_trust.iter().find(|(_, set)| *set)) {
        let why = "agents talk over mutual TLS with the fleet's own CA: set FLEET_CA_FILE, \
                   FLEET_CERT_FILE and FLEET_KEY_FILE too (docs/fleet.md, Certificates)";
        return Err(ConfigError::new(var, why.to_string()));
    }
    Ok(FleetConfig {
        name,
        peers,
        dns,
        join,
        port,
        trust,
        probe_every,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<FleetConfig, ConfigError> {
        section(&Vars::from_pairs(pairs.iter().copied()))
    }

    const FILES: [(&str, &str); 3] = [
        ("FLEET_CA_FILE", "/run/secrets/fleet-ca.pem"),
        ("FLEET_CERT_FILE", "/run/secrets/fleet-cert.pem"),
        ("FLEET_KEY_FILE", "/run/secrets/fleet-key.pem"),
    ];

    #[test]
    fn unset_is_no_fleet_and_each_setting_is_read() {
        assert!(!load(&[]).unwrap().enabled());
        let fleet = load(&[
            FILES[0],
            FILES[1],
            FILES[2],
            ("FLEET_JOIN", "https://door.example:9443"),
            ("FLEET_PORT", "9443"),
            ("FLEET_NAME", "edge-1"),
            ("FLEET_PEERS", "a=https://10.0.0.2:9443, b=https://10.0.0.3"),
            ("FLEET_DNS", "tasks.agent:9000"),
        ])
        .unwrap();
        assert_eq!(fleet.name.as_deref(), Some("edge-1"));
        assert_eq!(fleet.peers.len(), 2);
        assert_eq!(
            fleet.dns.as_ref().map(|d| d.to_string()).as_deref(),
            Some("tasks.agent:9000")
        );
        assert!(fleet.enabled() && fleet.finds_members());
        assert_eq!(fleet.port, 9443);
        let door = fleet.join.as_ref().map(ToString::to_string);
        assert_eq!(door.as_deref(), Some("door.example:9443"));
        let trust = fleet.trust.unwrap();
        assert_eq!(trust.key, PathBuf::from("/run/secrets/fleet-key.pem"));
        let owner = load(&FILES).unwrap();
        assert!(owner.enabled() && !owner.finds_members());
        assert_eq!(owner.port, DEFAULT_PORT);
    }

    #[test]
    fn members_need_the_certificates_and_a_port_of_their_own() {
        let why = |pairs: &[(&str, &str)]| load(pairs).unwrap_err();
        let e = why(&[("FLEET_PEERS", "a=https://10.0.0.2")]);
        assert_eq!(e.var, "FLEET_PEERS");
        assert!(e.to_string().contains("FLEET_CA_FILE"), "{e}");
        assert_eq!(why(&[("FLEET_JOIN", "https://d:9001")]).var, "FLEET_JOIN");
        let e = why(&[FILES[0], FILES[2]]);
        assert_eq!(e.var, "FLEET_CERT_FILE");
        assert!(
            e.to_string()
                .contains("FLEET_CA_FILE, FLEET_KEY_FILE set without FLEET_CERT_FILE"),
            "{e}"
        );
        assert_eq!(
            why(&[FILES[0], FILES[1], FILES[2], ("PORT", "9001")]).var,
            "FLEET_PORT"
        );
        assert_eq!(
            why(&[FILES[0], FILES[1], FILES[2], ("FLEET_PORT", "9000")]).var,
            "FLEET_PORT"
        );
    }

    #[test]
    fn a_wrong_setting_stops_the_start_naming_it() {
        let var = |pairs: &[(&str, &str)]| load(pairs).unwrap_err().var;
        assert_eq!(var(&[("FLEET_NAME", "a b")]), "FLEET_NAME");
        assert_eq!(var(&[("FLEET_PEERS", "a=http://h")]), "FLEET_PEERS");
        assert_eq!(
            var(&[("FLEET_PROBE_INTERVAL", "0")]),
            "FLEET_PROBE_INTERVAL"
        );
        assert_eq!(var(&[("FLEET_DNS", "tasks.agent:0")]), "FLEET_DNS");
    }
}
