//! `FLEET_NAME`, `FLEET_PEERS` and `FLEET_DNS`: the fleet this agent is a
//! member of ([`crate::membership`]). Unset, the agent serves its own host
//! alone.

use super::{ConfigError, Vars};
use crate::membership::{FleetConfig, parse_address, parse_peers, valid_name};

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
    Ok(FleetConfig { name, peers, dns })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<FleetConfig, ConfigError> {
        section(&Vars::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn unset_is_no_fleet_and_each_setting_is_read() {
        assert!(!load(&[]).unwrap().enabled());
        let fleet = load(&[
            ("FLEET_NAME", "edge-1"),
            ("FLEET_PEERS", "a=https://10.0.0.2:9443, b=https://10.0.0.3"),
            ("FLEET_DNS", "tasks.agent:9000"),
        ])
        .unwrap();
        assert_eq!(fleet.name.as_deref(), Some("edge-1"));
        assert_eq!(fleet.peers.len(), 2);
        assert_eq!(
            fleet.dns.map(|d| d.to_string()).as_deref(),
            Some("tasks.agent:9000")
        );
    }

    #[test]
    fn a_wrong_setting_stops_the_start_naming_it() {
        let var = |pairs: &[(&str, &str)]| load(pairs).unwrap_err().var;
        assert_eq!(var(&[("FLEET_NAME", "a b")]), "FLEET_NAME");
        assert_eq!(var(&[("FLEET_PEERS", "a=http://h")]), "FLEET_PEERS");
        assert_eq!(var(&[("FLEET_DNS", "tasks.agent:0")]), "FLEET_DNS");
    }
}
