use super::*;

const BOTH: Pages = Pages {
    dashboard: true,
    metrics: true,
};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn urls_are_built_from_the_bound_address() {
    assert_eq!(
        urls(addr("127.0.0.1:9000"), false, BOTH, false),
        ["dashboard http://127.0.0.1:9000/, metrics http://127.0.0.1:9000/metrics"]
    );
    assert_eq!(
        urls(addr("[::1]:8443"), true, BOTH, false),
        ["dashboard https://[::1]:8443/, metrics https://[::1]:8443/metrics"]
    );
    let metrics_only = Pages {
        dashboard: false,
        metrics: true,
    };
    assert_eq!(
        urls(addr("10.0.0.5:9000"), false, metrics_only, false),
        ["metrics http://10.0.0.5:9000/metrics"]
    );
    let none = Pages {
        dashboard: false,
        metrics: false,
    };
    assert!(urls(addr("10.0.0.5:9000"), false, none, false).is_empty());
}

#[test]
fn a_wildcard_address_is_named_localhost_with_how_to_reach_it_from_elsewhere() {
    for any in ["0.0.0.0:9000", "[::]:9000"] {
        let host = urls(addr(any), false, BOTH, false);
        assert_eq!(
            host[0],
            "dashboard http://localhost:9000/, metrics http://localhost:9000/metrics"
        );
        assert!(host[1].contains("from another machine"), "{host:?}");
        let container = urls(addr(any), true, BOTH, true);
        assert!(container[0].starts_with("dashboard https://localhost:9000/"));
        assert!(
            container[1].contains("inside this container") && container[1].contains("published"),
            "{container:?}"
        );
    }
}

#[test]
fn plain_text_on_a_reachable_address_is_worded_for_where_the_agent_runs() {
    for quiet in [
        (true, "0.0.0.0"),
        (false, "127.0.0.1"),
        (false, "localhost"),
    ] {
        assert_eq!(plain_text(quiet.0, quiet.1, None, true), None, "{quiet:?}");
    }
    let Some(Notice::Exposed(host)) = plain_text(false, "0.0.0.0", None, false) else {
        panic!("a warning on a host");
    };
    assert!(host.contains("other machines can reach"), "{host}");
    let Some(Notice::Exposed(container)) = plain_text(false, "0.0.0.0", None, true) else {
        panic!("a warning in a container");
    };
    assert!(
        container.contains("cannot see where Docker publishes its port")
            && !container.contains("other machines can reach"),
        "{container}"
    );
    for text in [host, container] {
        for named in [
            "TLS_CERT_FILE",
            "PLAIN_HTTP_EXPOSURE=loopback",
            "REQUIRE_TLS",
        ] {
            assert!(text.contains(named), "{named}: {text}");
        }
    }
}

#[test]
fn plain_http_exposure_turns_the_warning_into_an_acknowledgement() {
    for in_container in [false, true] {
        let notice = plain_text(
            false,
            "0.0.0.0",
            Some(PlainExposure::Loopback),
            in_container,
        );
        assert_eq!(
            notice,
            Some(Notice::Acknowledged(
                "plain HTTP on 0.0.0.0 acknowledged: PLAIN_HTTP_EXPOSURE=loopback says only \
                     this host reaches the port"
                    .into()
            ))
        );
    }
    let proxied = plain_text(false, "10.0.0.5", Some(PlainExposure::TlsProxy), false);
    assert!(matches!(proxied, Some(Notice::Acknowledged(t)) if t.contains("tls-proxy")));
    // With TLS on there is nothing to acknowledge.
    assert_eq!(
        plain_text(true, "0.0.0.0", Some(PlainExposure::Loopback), true),
        None
    );
}
