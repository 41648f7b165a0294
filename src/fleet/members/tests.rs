use super::*;

fn host(name: &str, id: Option<&str>) -> HostView {
    HostView {
        name: name.into(),
        id: id.map(String::from),
        address: "10.0.0.1:9001".into(),
        source: "dns",
        state: State::Up,
        reason: None,
        version: None,
        docker_version: None,
        containers: None,
        rtt_ms: None,
        last_contact: None,
        duplicate_of: Vec::new(),
        agent: None,
    }
}

#[test]
fn a_shared_name_gets_enough_of_each_id_to_tell_the_hosts_apart() {
    let given = |list: &[(&str, Option<&str>)]| {
        let list: Vec<(String, Option<String>)> = list
            .iter()
            .map(|(n, i)| (n.to_string(), i.map(String::from)))
            .collect();
        names(&list)
    };
    assert_eq!(given(&[("a", Some("X1")), ("b", Some("X2"))]), ["a", "b"]);
    assert_eq!(
        given(&[
            ("vm", Some("4QOX:BECA:KPIQ")),
            ("vm", Some("4QOY:AAAA:BBBB")),
            ("vm", Some("77ab-cd")),
            ("db", Some("4QOX:BECA:KPIQ")),
        ]),
        ["vm~4qox", "vm~4qoy", "vm~77ab", "db"]
    );
    assert_eq!(
        given(&[("vm", Some("abcdef1")), ("vm", Some("abcdef2"))]),
        ["vm~abcdef1", "vm~abcdef2"]
    );
    assert_eq!(
        given(&[("vm", None), ("vm", Some("abcd1234"))]),
        ["vm~unknown", "vm~abcd"]
    );
}

#[test]
fn a_host_is_found_by_name_id_or_unique_id_prefix() {
    let hosts = [
        host("vm~4qox", Some("4QOX:BECA:KPIQ")),
        host("vm~4qoy", Some("4QOY:AAAA:BBBB")),
        host("db", Some("9f3e2a1b-0000")),
    ];
    assert_eq!(find(&hosts, "db").unwrap(), 2);
    assert_eq!(find(&hosts, "vm~4qoy").unwrap(), 1);
    assert_eq!(find(&hosts, "4QOX:BECA:KPIQ").unwrap(), 0);
    assert_eq!(find(&hosts, "9f3e2a1b").unwrap(), 2);
    assert_eq!(find(&hosts, "4qoyaa").unwrap(), 1);
    match find(&hosts, "vm") {
        Err(Error::AmbiguousHost(_, names)) => assert_eq!(names, ["vm~4qox", "vm~4qoy"]),
        other => panic!("{other:?}"),
    }
    match find(&hosts, "4qo") {
        Err(Error::UnknownHost(h)) => assert_eq!(h, "4qo"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        find(&hosts, "nowhere"),
        Err(Error::UnknownHost(_))
    ));
}

#[test]
fn hosts_sharing_a_daemon_are_reported_not_merged() {
    let mut hosts = [host("a", Some("X")), host("b", Some("X")), host("c", None)];
    mark_duplicates(&mut hosts);
    assert_eq!(hosts[0].duplicate_of, ["b"]);
    assert_eq!(hosts[1].duplicate_of, ["a"]);
    assert!(hosts[2].duplicate_of.is_empty());
}
