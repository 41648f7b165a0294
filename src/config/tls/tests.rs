use super::*;

fn load(pairs: &[(&str, &str)], host: &str) -> Result<TlsConfig, ConfigError> {
    section(&Vars::from_pairs(pairs.iter().copied()), host)
}

#[test]
fn files_auto_or_off() {
    assert_eq!(load(&[], "0.0.0.0").unwrap().source, TlsSource::Off);
    assert_eq!(
        load(&[("TLS_AUTO", "true")], "0.0.0.0").unwrap().source,
        TlsSource::Auto { dir: None }
    );
    let kept = [("TLS_AUTO", "true"), ("TLS_AUTO_DIR", "/var/lib/agent")];
    assert_eq!(
        load(&kept, "0.0.0.0").unwrap().source,
        TlsSource::Auto {
            dir: Some("/var/lib/agent".into())
        }
    );
    let c = load(
        &[
            ("TLS_CERT_FILE", "/c.pem"),
            ("TLS_KEY_FILE", "/k.pem"),
            ("TLS_CLIENT_CA_FILE", "/ca.pem"),
        ],
        "0.0.0.0",
    )
    .unwrap();
    assert_eq!(
        c.source,
        TlsSource::Files {
            cert: "/c.pem".into(),
            key: "/k.pem".into()
        }
    );
    assert_eq!(c.client_ca, Some("/ca.pem".into()));
}

#[test]
fn inconsistent_settings_name_the_variable() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("TLS_CERT_FILE", "/c.pem")], "TLS_KEY_FILE"),
        (&[("TLS_KEY_FILE", "/k.pem")], "TLS_CERT_FILE"),
        (
            &[
                ("TLS_CERT_FILE", "/c"),
                ("TLS_KEY_FILE", "/k"),
                ("TLS_AUTO", "true"),
            ],
            "TLS_AUTO",
        ),
        (&[("TLS_CLIENT_CA_FILE", "/ca.pem")], "TLS_CLIENT_CA_FILE"),
        (&[("TLS_AUTO_DIR", "/var/lib/agent")], "TLS_AUTO_DIR"),
        (
            &[
                ("TLS_CERT_FILE", "/c"),
                ("TLS_KEY_FILE", "/k"),
                ("TLS_AUTO_DIR", "/var/lib/agent"),
            ],
            "TLS_AUTO_DIR",
        ),
        (&[("TLS_AUTO", "maybe")], "TLS_AUTO"),
        (&[("REQUIRE_TLS", "true")], "REQUIRE_TLS"),
        (&[("PLAIN_HTTP_EXPOSURE", "lan")], "PLAIN_HTTP_EXPOSURE"),
    ];
    for (pairs, var) in cases {
        assert_eq!(load(pairs, "0.0.0.0").unwrap_err().var, *var, "{pairs:?}");
    }
}

#[test]
fn require_tls_allows_loopback_and_tls() {
    for host in ["127.0.0.1", "::1", "[::1]", "localhost"] {
        assert!(load(&[("REQUIRE_TLS", "true")], host).is_ok(), "{host}");
    }
    for host in ["0.0.0.0", "::", "10.1.2.3", "agent.example"] {
        assert!(!is_loopback(host), "{host}");
    }
    assert!(load(&[("REQUIRE_TLS", "true"), ("TLS_AUTO", "true")], "0.0.0.0").is_ok());
}

#[test]
fn plain_http_exposure_is_read_and_never_lifts_require_tls() {
    assert_eq!(load(&[], "0.0.0.0").unwrap().plain_exposure, None);
    for (value, exposure) in [
        ("loopback", PlainExposure::Loopback),
        ("TLS-Proxy", PlainExposure::TlsProxy),
    ] {
        let pairs = [("PLAIN_HTTP_EXPOSURE", value)];
        assert_eq!(
            load(&pairs, "0.0.0.0").unwrap().plain_exposure,
            Some(exposure)
        );
        let refused = [("PLAIN_HTTP_EXPOSURE", value), ("REQUIRE_TLS", "true")];
        let err = load(&refused, "0.0.0.0").unwrap_err();
        assert_eq!(err.var, "REQUIRE_TLS");
        assert!(
            err.message.contains("does not lift REQUIRE_TLS"),
            "{}",
            err.message
        );
        // Where REQUIRE_TLS has nothing to refuse, the two agree.
        assert!(load(&refused, "127.0.0.1").is_ok());
        let with_tls = [
            ("PLAIN_HTTP_EXPOSURE", value),
            ("REQUIRE_TLS", "true"),
            ("TLS_AUTO", "true"),
        ];
        assert!(load(&with_tls, "0.0.0.0").is_ok());
    }
}
