use super::*;

const KEY: SecretVar = SecretVar {
    name: "SECRET_KEY",
    file: "SECRET_KEY_FILE",
    generate: 32,
};

fn temp_file(name: &str, content: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!(
        "docker-agent-secret-{}-{name}",
        crate::random::token(8)
    ));
    std::fs::write(&path, content).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn a_secret_file_is_read_without_its_trailing_newline() {
    for (content, want) in [
        (&b"s3cret-value\n"[..], "s3cret-value"),
        (b"s3cret-value\r\n", "s3cret-value"),
        (b"s3cret-value", "s3cret-value"),
        (b"with space \n", "with space "),
    ] {
        let path = temp_file("ok", content);
        let vars = Vars::from_pairs([("SECRET_KEY_FILE", path.as_str())]);
        assert_eq!(read(&vars, KEY).unwrap().as_deref(), Some(want));
        std::fs::remove_file(path).unwrap();
    }
    assert_eq!(read(&Vars::default(), KEY).unwrap(), None);
}

#[test]
fn both_forms_or_a_bad_file_stop_the_start() {
    let path = temp_file("both", b"abc\n");
    let both = Vars::from_pairs([("SECRET_KEY", "x"), ("SECRET_KEY_FILE", path.as_str())]);
    let err = read(&both, KEY).unwrap_err();
    assert_eq!(err.var, "SECRET_KEY_FILE");
    assert!(
        err.message.contains("SECRET_KEY or SECRET_KEY_FILE"),
        "{err}"
    );
    let missing = Vars::from_pairs([("SECRET_KEY_FILE", "/nonexistent/key")]);
    let err = read(&missing, KEY).unwrap_err().to_string();
    assert!(
        err.contains("SECRET_KEY_FILE") && err.contains("No such file"),
        "{err}"
    );
    let empty_path = temp_file("empty", b"\n");
    let empty = Vars::from_pairs([("SECRET_KEY_FILE", empty_path.as_str())]);
    assert!(read(&empty, KEY).unwrap_err().message.contains("empty"));
    let big_path = temp_file("big", &[b'k'; 5000]);
    let big = Vars::from_pairs([("SECRET_KEY_FILE", big_path.as_str())]);
    assert!(read(&big, KEY).unwrap_err().message.contains("larger"));
    for p in [path, empty_path, big_path] {
        std::fs::remove_file(p).unwrap();
    }
}

#[test]
fn placeholders_and_low_entropy_values_are_weak() {
    for weak in [
        "changeme",
        "ChangeMe",
        "your_secure_password",
        &"a".repeat(36),
        "abababababababababababababababababab",
        "abcdefgabcdefgabcdefgabcdefgabcdefg",
        "1212343412123434",
    ] {
        let err = check_strength("API_PASSWORD", weak).unwrap_err();
        assert_eq!(err.var, "API_PASSWORD");
        assert!(!err.message.contains(weak), "{err}");
    }
    for strong in [
        "test-password-1",
        "correct horse battery staple",
        "0123456789abcdef",
    ] {
        assert!(check_strength("API_PASSWORD", strong).is_ok(), "{strong}");
    }
}

#[test]
fn generated_secrets_are_strong_and_url_safe() {
    for bytes in [18, 32] {
        for _ in 0..200 {
            let t = crate::random::token(bytes);
            assert!(check_strength("SECRET_KEY", &t).is_ok(), "{t}");
            assert!(
                t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{t}"
            );
        }
    }
}
