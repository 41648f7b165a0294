use super::*;

fn address(host: &str, port: u16) -> Address {
    Address {
        host: host.into(),
        port,
    }
}

#[test]
fn a_peer_is_a_name_and_an_https_address() {
    assert_eq!(
        parse_peer("edge-1=https://10.0.0.2:9443"),
        Ok(ListedPeer {
            name: "edge-1".into(),
            address: address("10.0.0.2", 9443)
        })
    );
    assert_eq!(
        parse_peer(" db.eu = https://db.example/ ").map(|p| p.address),
        Ok(address("db.example", DEFAULT_PORT))
    );
    assert_eq!(
        parse_peer("v6=https://[fd00::2]:9000").map(|p| p.address.to_string()),
        Ok("[fd00::2]:9000".into())
    );
}

#[test]
fn what_is_not_a_peer_is_refused_with_the_reason() {
    let why = |entry: &str| parse_peer(entry).unwrap_err();
    assert!(why("edge-1").contains("name=https://host:port"));
    assert!(why("edge-1=http://10.0.0.2:9000").contains("must start with https://"));
    assert!(why("-x=https://a:1").contains("is not a host name"));
    assert!(why("a/b=https://a:1").contains("is not a host name"));
    assert!(why("a=https://host:0").contains("1 to 65535"));
    assert!(why("a=https://host:99999").contains("1 to 65535"));
    assert!(why("a=https://user@host:1").contains("is not host:port"));
    assert!(why("a=https://host:1/path").contains("takes no path"));
    assert!(why("a=https://[fd00::2").contains("closing ]"));
}

#[test]
fn a_name_given_twice_refuses_the_list() {
    let list = |s: &[&str]| parse_peers(&s.iter().map(|e| e.to_string()).collect::<Vec<_>>());
    assert_eq!(
        list(&["a=https://h1", "b=https://h2"]).map(|p| p.len()),
        Ok(2)
    );
    assert_eq!(
        list(&["a=https://h1", "a=https://h2"]),
        Err("\"a\" is named twice".into())
    );
    assert_eq!(list(&[]), Ok(Vec::new()));
}

#[test]
fn host_names_are_path_segments() {
    for good in ["a", "edge-01", "db.eu_west", &"x".repeat(63)] {
        assert!(valid_name(good), "{good}");
    }
    for bad in ["", "-a", ".a", "a b", "a/b", "é", &"x".repeat(64)] {
        assert!(!valid_name(bad), "{bad}");
    }
}

#[test]
fn a_fleet_needs_its_certificates_and_finds_members_by_peers_or_dns() {
    assert!(!FleetConfig::default().enabled());
    let dns = FleetConfig {
        dns: Some(address("tasks.agent", 9000)),
        ..FleetConfig::default()
    };
    assert!(dns.finds_members() && !dns.enabled());
    let trust = TrustFiles {
        ca: "ca.pem".into(),
        cert: "cert.pem".into(),
        key: "key.pem".into(),
    };
    let owner = FleetConfig {
        trust: Some(trust),
        ..FleetConfig::default()
    };
    assert!(owner.enabled() && !owner.finds_members());
}
