use super::*;
use serde_json::json;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn globs_match_whole_names() {
    let yes = [
        ("web", "web"),
        ("web-*", "web-1"),
        ("web-*", "web-"),
        ("*", ""),
        ("*", "anything"),
        ("w?b", "wib"),
        ("*-db-*", "shop-db-primary"),
        ("a*b*c", "aXXbYYc"),
        ("a*b*c", "abcbc"),
        ("**x", "x"),
        ("*?", "a"),
    ];
    for (p, n) in yes {
        assert!(glob(p, n), "{p} ~ {n}");
    }
    let no = [
        ("web", "web1"),
        ("web", "we"),
        ("web-*", "my-web-1"),
        ("w?b", "wb"),
        ("a*b*c", "aXXbYY"),
        ("?", ""),
        ("*?", ""),
        ("db", "DB"),
    ];
    for (p, n) in no {
        assert!(!glob(p, n), "{p} !~ {n}");
    }
    let long = "a".repeat(255);
    assert!(!glob("*a*a*a*a*a*a*a*a*b", &long), "fails fast");
}

#[test]
fn glob_patterns_are_checked() {
    for ok in ["web-*", "?", "a.b_c-*"] {
        assert!(check_glob(ok).is_ok(), "{ok}");
    }
    for bad in ["", "web/*", "a b", "[ab]", "é", &"a".repeat(256)] {
        assert!(check_glob(bad).is_err(), "{bad}");
    }
}

#[test]
fn label_rules_match_a_value_or_presence() {
    let with = labels(&[("agent.expose", "true"), ("tier", "web")]);
    let rule = LabelRule::parse("agent.expose=true").unwrap();
    assert!(rule.matches(&with));
    assert!(!rule.matches(&labels(&[("agent.expose", "false")])));
    assert!(!rule.matches(&labels(&[])));
    let present = LabelRule::parse("tier").unwrap();
    assert!(present.matches(&with) && !present.matches(&()));
    let empty_value = LabelRule::parse("flag=").unwrap();
    assert!(empty_value.matches(&labels(&[("flag", "")])));
    assert!(!empty_value.matches(&labels(&[("flag", "x")])));
    assert_eq!(rule.to_string(), "agent.expose=true");
    assert_eq!(present.to_string(), "tier");
    for bad in ["", "=x", " =x", "a b=c"] {
        assert!(LabelRule::parse(bad).is_err(), "{bad:?}");
    }
}

fn scope(label: Option<&str>, names: &[&str], exclude: Option<&str>) -> Scope {
    Scope {
        label: label.map(|l| LabelRule::parse(l).unwrap()),
        names: names.iter().map(|n| n.to_string()).collect(),
        exclude: exclude.map(|l| LabelRule::parse(l).unwrap()),
    }
}

#[test]
fn scope_rules_label_or_names_and_the_opt_out_wins() {
    let exposed = labels(&[("expose", "yes")]);
    let opted_out = labels(&[("expose", "yes"), ("private", "1")]);
    let none = labels(&[]);

    let all = Scope::default();
    assert!(!all.active());
    assert!(all.admits("anything", &none));

    let by_label = scope(Some("expose=yes"), &[], None);
    assert!(by_label.admits("x", &exposed) && !by_label.admits("x", &none));

    let by_name = scope(None, &["web-*", "db"], None);
    assert!(by_name.admits("web-1", &none) && by_name.admits("db", &none));
    assert!(!by_name.admits("cache", &exposed));

    let either = scope(Some("expose=yes"), &["web-*"], None);
    assert!(either.admits("cache", &exposed), "the label alone");
    assert!(either.admits("web-1", &none), "the name alone");
    assert!(!either.admits("cache", &none));

    let excluding = scope(Some("expose=yes"), &["web-*"], Some("private"));
    assert!(!excluding.admits("web-1", &opted_out), "opt-out wins");
    let only_exclude = scope(None, &[], Some("private=1"));
    assert!(only_exclude.active());
    assert!(only_exclude.admits("x", &none) && !only_exclude.admits("x", &opted_out));
}

#[test]
fn events_are_placed_by_their_attributes() {
    let s = scope(Some("expose=yes"), &[], None);
    let container = |name: &str, expose: &str| json!({"Type": "container", "Action": "start", "Actor": {"ID": "abc", "Attributes": {"name": name, "expose": expose, "image": "x"}}});
    assert_eq!(s.sight(&container("web", "yes")), Sight::Shown);
    assert_eq!(s.sight(&container("web", "no")), Sight::Hidden);
    let truncated = json!({"Type": "container", "Actor": {"ID": "abc", "Attributes": {"docker-agent.truncated": "event of 9 bytes"}}});
    assert_eq!(s.sight(&truncated), Sight::Ask("abc".into()));
    let network = json!({"Type": "network", "Action": "connect", "Actor": {"ID": "net", "Attributes": {"container": "abc", "name": "bridge"}}});
    assert_eq!(s.sight(&network), Sight::Ask("abc".into()));
    let image = json!({"Type": "image", "Action": "pull", "Actor": {"ID": "img", "Attributes": {"name": "x"}}});
    assert_eq!(s.sight(&image), Sight::Shown);
    assert_eq!(s.sight(&json!({"Type": "container"})), Sight::Hidden);
    assert_eq!(
        Scope::default().sight(&container("web", "no")),
        Sight::Shown,
        "no scope, no filtering"
    );
}
