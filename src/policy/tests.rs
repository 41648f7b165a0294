//! The role table and the order of [`Policy::decide`]'s checks.

use super::*;
use crate::auth::Auth;
use crate::auth::secret::Secret;
use crate::config::{Config, Vars};
use std::collections::BTreeMap;

const EVERY_OP: [Op; 14] = [
    Op::LIST_CONTAINERS,
    Op::INSPECT,
    Op::LOGS,
    Op::STATS,
    Op::LIST_IMAGES,
    Op::VERSION,
    Op::HEALTH,
    Op::FOLLOW_LOGS,
    Op::FOLLOW_STATS,
    Op::EVENTS,
    Op::START,
    Op::STOP,
    Op::RESTART,
    Op::EXEC,
];

const EXEC: (&str, &str) = ("EXEC_ENABLED", "true");

fn policy(pairs: &[(&str, &str)], own: Option<&str>) -> Policy {
    let config = Config::from_vars(&Vars::from_pairs(pairs.iter().copied())).unwrap();
    Policy::new(&config.policy, own.map(str::to_string))
}

/// A tokens file of its own holding `entries` (name, role, token).
fn tokens_file(entries: &[(&str, Role, &str)]) -> std::path::PathBuf {
    let path =
        std::env::temp_dir().join(format!("docker-agent-tokens-{}", crate::random::token(8)));
    write_tokens(&path, entries);
    path
}

fn write_tokens(path: &std::path::Path, entries: &[(&str, Role, &str)]) {
    let lines: Vec<String> = entries
        .iter()
        .map(|(name, role, token)| tokens::line(name, *role, token))
        .collect();
    std::fs::write(path, lines.join("\n")).unwrap();
}

fn caller(role: Role, surface: Surface) -> Caller {
    Caller {
        subject: "someone".into(),
        role,
        surface,
        credential: Credential::McpKey,
        restrictions: Restrictions::default(),
        context: None,
    }
}

const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn container<'a>(name: &'a str, labels: &'a BTreeMap<String, String>) -> Option<Facts<'a>> {
    Some(Facts {
        id: ID,
        name,
        labels,
    })
}

#[test]
fn the_role_table() {
    let p = policy(&[EXEC], None);
    for op in EVERY_OP {
        let allowed = |role| p.decide(&caller(role, Surface::Rest), op, None).allowed();
        assert!(allowed(Role::Admin), "admin may {op:?}");
        assert_eq!(allowed(Role::Operate), op != Op::EXEC, "operate and {op:?}");
        assert_eq!(allowed(Role::Read), !op.mutates, "read and {op:?}");
    }
    let mutating: Vec<&str> = EVERY_OP
        .iter()
        .filter(|op| op.mutates)
        .map(|op| op.name)
        .collect();
    assert_eq!(mutating, ["start", "stop", "restart", "exec"]);
}

#[test]
fn exec_is_refused_to_everyone_while_disabled_and_needs_admin_when_enabled() {
    let off = policy(&[], None);
    let none = BTreeMap::new();
    for surface in [Surface::Rest, Surface::Ws, Surface::Mcp] {
        let admin = caller(Role::Admin, surface);
        let d = off.decide(&admin, Op::EXEC, container("web", &none));
        assert_eq!(d.refusal, Some(Refusal::ExecDisabled), "{surface:?}");
        let e = d.check("web").unwrap_err();
        assert_eq!(e.status(), 403);
        assert_eq!(
            e.message(),
            "exec is disabled; an operator can set EXEC_ENABLED=true"
        );
    }
    let on = policy(&[EXEC], None);
    let operator = caller(Role::Operate, Surface::Mcp);
    let d = on.decide(&operator, Op::EXEC, None);
    assert_eq!(
        d.check("web").unwrap_err().message(),
        "Role 'operate' does not allow 'exec': it needs the 'admin' role"
    );
}

#[test]
fn a_role_refusal_names_the_role_and_the_action() {
    let p = policy(&[], None);
    let reader = caller(Role::Read, Surface::Mcp);
    let d = p.decide(&reader, Op::STOP, None);
    assert_eq!(
        d.refusal,
        Some(Refusal::Role {
            has: Role::Read,
            needs: Role::Operate
        })
    );
    let e = d.check("web").unwrap_err();
    assert_eq!(e.status(), 403);
    assert_eq!(
        e.message(),
        "Role 'read' does not allow 'stop': it needs the 'operate' role"
    );
}

#[test]
fn read_only_refuses_every_change_and_a_credential_is_restricted_wherever_it_goes() {
    let ro = policy(&[("READ_ONLY", "true"), EXEC], None);
    let (marked, plain, own) = (tokens::generate(), tokens::generate(), tokens::generate());
    let path =
        std::env::temp_dir().join(format!("docker-agent-tokens-{}", crate::random::token(8)));
    let lines = [
        tokens::marked_line(
            "bot",
            Role::Admin,
            &marked,
            tokens::Marks::parse("mcp").unwrap(),
        ),
        tokens::line("ci", Role::Admin, &plain),
        tokens::marked_line(
            "viewer",
            Role::Admin,
            &own,
            tokens::Marks::parse("read-only").unwrap(),
        ),
    ];
    std::fs::write(&path, lines.join("\n")).unwrap();
    let restricted = policy(
        &[
            ("MCP_READ_ONLY", "true"),
            ("MCP_CONFIRM", "off"),
            ("API_TOKENS_FILE", path.to_str().unwrap()),
            EXEC,
        ],
        None,
    );
    let key = Secret::new("the-mcp-key-0123456789");
    let mcp = restricted
        .mcp_caller(&key, "the-mcp-key-0123456789")
        .unwrap();
    for op in EVERY_OP {
        for surface in [Surface::Rest, Surface::Ws, Surface::Mcp] {
            let admin = caller(Role::Admin, surface);
            assert_eq!(ro.decide(&admin, op, None).allowed(), !op.mutates);
            let token = |t: &str| restricted.token_caller(t, surface).unwrap();
            for (who, refused) in [
                (token(&marked), true),
                (token(&own), true),
                (token(&plain), false),
            ] {
                assert_eq!(
                    restricted.decide(&who, op, None).allowed(),
                    !(op.mutates && refused),
                    "{} {op:?} over {surface:?}",
                    who.subject
                );
            }
        }
        assert_eq!(restricted.decide(&mcp, op, None).allowed(), !op.mutates);
    }
    let admin = caller(Role::Admin, Surface::Rest);
    let e = ro
        .decide(&admin, Op::RESTART, None)
        .check("web")
        .unwrap_err();
    assert_eq!(e.status(), 403);
    assert!(e.message().contains("READ_ONLY=true"), "{}", e.message());
    let e = restricted
        .decide(&mcp, Op::START, None)
        .check("web")
        .unwrap_err();
    assert_eq!(
        e.message(),
        "MCP is read-only (MCP_READ_ONLY=true): 'start' is refused"
    );
    let bot = restricted.token_caller(&marked, Surface::Rest).unwrap();
    let e = restricted
        .decide(&bot, Op::START, None)
        .check("web")
        .unwrap_err();
    assert_eq!(
        e.message(),
        "The token 'bot' (marked mcp in API_TOKENS_FILE) is read-only: 'start' is refused"
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_confirmation_a_credential_needs_is_asked_on_mcp_and_refused_elsewhere() {
    let marked = tokens::generate();
    let path =
        std::env::temp_dir().join(format!("docker-agent-tokens-{}", crate::random::token(8)));
    let marks = tokens::Marks::parse("confirm=actions").unwrap();
    std::fs::write(
        &path,
        tokens::marked_line("bot", Role::Admin, &marked, marks),
    )
    .unwrap();
    let p = policy(&[("API_TOKENS_FILE", path.to_str().unwrap()), EXEC], None);
    for surface in [Surface::Rest, Surface::Ws, Surface::Mcp] {
        let bot = p.token_caller(&marked, surface).unwrap();
        let d = p.decide(&bot, Op::STOP, None);
        assert_eq!(d.refusal, Some(Refusal::Unconfirmed));
        assert!(d.allowed_if_confirmed(), "MCP may ask");
        let e = d.check("web").unwrap_err();
        assert_eq!(
            e.message(),
            "The token 'bot' (marked confirm=actions in API_TOKENS_FILE) needs a person's yes to \
             'stop', which only MCP can ask: call the tool from an MCP client that supports elicitation"
        );
        assert!(p.decide(&bot, Op::INSPECT, None).allowed());
        let context = crate::audit::Context::new(
            "r".into(),
            "127.0.0.1".parse().unwrap(),
            std::time::Instant::now(),
        );
        let yes = crate::audit::Confirmation {
            answer: "accepted",
            by: "elicitation:x".into(),
        };
        let confirmed = bot.clone().at(Some(&context.confirmed(yes)));
        assert!(p.decide(&confirmed, Op::STOP, None).allowed());
    }
    let key = Secret::new("the-mcp-key-0123456789");
    let mcp = p.mcp_caller(&key, "the-mcp-key-0123456789").unwrap();
    assert_eq!(
        p.decide(&mcp, Op::REMOVE, None).refusal,
        Some(Refusal::Unconfirmed),
        "MCP_CONFIRM is destructive by default"
    );
    assert!(p.decide(&mcp, Op::STOP, None).allowed());
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn out_of_scope_is_refused_as_missing_before_anything_else() {
    let p = policy(
        &[("SCOPE_LABEL", "expose=yes"), ("READ_ONLY", "true")],
        None,
    );
    let none = BTreeMap::new();
    let exposed: BTreeMap<String, String> = [("expose".into(), "yes".into())].into();
    let reader = caller(Role::Read, Surface::Rest);
    for op in EVERY_OP {
        let d = p.decide(&reader, op, container("web", &none));
        assert_eq!(d.refusal, Some(Refusal::OutOfScope), "{op:?}");
        assert_eq!(
            d.check("web").unwrap_err(),
            crate::error::Error::ContainerNotFound("web".into()),
            "the very error of a missing container"
        );
        let inside = p.decide(&reader, op, container("web", &exposed));
        assert_eq!(inside.allowed(), !op.mutates, "{op:?}");
    }
}

#[test]
fn a_forced_image_removal_is_refused_under_a_scope_in_one_readable_sentence() {
    assert_eq!(policy(&[], None).force_image_removal(), Ok(()));
    let refused = policy(&[("SCOPE_LABEL", "expose=yes")], None)
        .force_image_removal()
        .unwrap_err()
        .message();
    assert!(
        refused.contains("it could remove an image from under a container outside the scope")
            && !refused.contains("  "),
        "{refused:?}"
    );
}

#[test]
fn the_agent_refuses_to_stop_restart_or_exec_in_its_own_container() {
    let none = BTreeMap::new();
    let admin = caller(Role::Admin, Surface::Rest);
    for own in [ID, &ID[..12]] {
        let p = policy(&[EXEC], Some(own));
        for op in EVERY_OP {
            let d = p.decide(&admin, op, container("agent", &none));
            let refused = matches!(op, Op::STOP | Op::RESTART | Op::EXEC);
            assert_eq!(d.refusal == Some(Refusal::OwnContainer), refused, "{op:?}");
        }
        let e = p
            .decide(&admin, Op::STOP, container("agent", &none))
            .check("agent")
            .unwrap_err();
        assert_eq!(e.status(), 409);
    }
    let elsewhere = policy(&[], Some("fedcba987654"));
    assert!(
        elsewhere
            .decide(&admin, Op::STOP, container("web", &none))
            .allowed()
    );
}

#[test]
fn identities_and_their_roles() {
    let token = tokens::generate();
    let path = tokens_file(&[("assistant", Role::Read, &token)]);
    let vars = [
        ("API_TOKENS_FILE", path.to_str().unwrap()),
        ("API_ROLE", "operate"),
        ("MCP_ROLE", "read"),
    ];
    let config = Config::from_vars(&Vars::from_pairs(vars)).unwrap();
    let p = Policy::new(&config.policy, None);
    let auth = Auth::new(&config.auth);
    let jwt = auth.issue("admin");
    let login = p.identify(&auth, &jwt, Surface::Rest).unwrap();
    assert_eq!(
        (login.subject.as_str(), login.role),
        ("admin", Role::Operate)
    );
    assert!(login.expires().is_some());
    let scoped = p.identify(&auth, &token, Surface::Ws).unwrap();
    assert_eq!(
        (scoped.subject.as_str(), scoped.role),
        ("assistant", Role::Read)
    );
    assert_eq!(scoped.expires(), None);
    assert!(
        p.identify(&auth, &tokens::generate(), Surface::Rest)
            .is_err()
    );
    assert!(p.identify(&auth, "dat_", Surface::Rest).is_err());
    let key = Secret::new("the-mcp-key-0123456789");
    let mcp = p.mcp_caller(&key, "the-mcp-key-0123456789").unwrap();
    assert_eq!((mcp.subject.as_str(), mcp.role), ("mcp", Role::Read));
    assert_eq!(p.mcp_caller(&key, &token).unwrap().subject, "assistant");
    assert!(
        p.mcp_caller(&key, &jwt).is_none(),
        "a login JWT is not an MCP credential"
    );

    // Removing the line revokes the token; a bad file keeps the tokens in force.
    std::fs::write(&path, "broken line\n").unwrap();
    assert!(p.reload_tokens().unwrap_err().contains("line 1"));
    assert!(p.refresh(&scoped).is_some());
    std::fs::write(&path, "# nobody\n").unwrap();
    assert_eq!(p.reload_tokens(), Ok(0));
    std::fs::remove_file(&path).unwrap();
    assert!(p.refresh(&scoped).is_none());
    assert_eq!(p.refresh(&login).as_ref(), Some(&login));
    assert!(p.identify(&auth, &token, Surface::Rest).is_err());
}

#[tokio::test]
async fn a_reload_that_removes_a_token_completes_its_revocation() {
    let (token, keep) = (tokens::generate(), tokens::generate());
    let path = tokens_file(&[("gone", Role::Read, &token), ("kept", Role::Read, &keep)]);
    let p = std::sync::Arc::new(policy(&[("API_TOKENS_FILE", path.to_str().unwrap())], None));
    let gone = p.token_caller(&token, Surface::Ws).unwrap();
    let kept = p.token_caller(&keep, Surface::Ws).unwrap();
    let watch = |c: Caller| {
        let p = p.clone();
        tokio::spawn(async move { p.revoked(&c).await })
    };
    let (gone_task, kept_task) = (watch(gone), watch(kept));
    tokio::task::yield_now().await;
    p.reload_tokens().unwrap();
    tokio::task::yield_now().await;
    assert!(
        !gone_task.is_finished(),
        "an unchanged file revokes nothing"
    );
    write_tokens(&path, &[("kept", Role::Read, &keep)]);
    p.reload_tokens().unwrap();
    std::fs::remove_file(&path).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), gone_task)
        .await
        .expect("revoked")
        .unwrap();
    assert!(!kept_task.is_finished());
    kept_task.abort();
}

#[test]
fn health_reports_the_policy_without_secrets() {
    let token = tokens::generate();
    let path = tokens_file(&[("ci", Role::Read, &token)]);
    let p = policy(
        &[
            ("API_TOKENS_FILE", path.to_str().unwrap()),
            ("SCOPE_LABEL", "expose=yes"),
            ("SCOPE_NAMES", "web-*"),
            ("MCP_READ_ONLY", "true"),
        ],
        None,
    );
    std::fs::remove_file(&path).unwrap();
    assert_eq!(p.modes(), (false, true));
    let scope = serde_json::to_value(p.scope_report()).unwrap();
    assert_eq!(
        scope,
        serde_json::json!({"label": "expose=yes", "names": ["web-*"], "exclude_label": null})
    );
    let roles = serde_json::to_string(&p.roles_report()).unwrap();
    assert_eq!(
        roles,
        r#"{"login":"admin","mcp":"admin","tokens":{"ci":"read"}}"#
    );
    let line = tokens::line("ci", Role::Read, &token);
    let hash = line.rsplit(' ').next().unwrap();
    assert!(!roles.contains(&hash[..16]) && !roles.contains(&token[4..20]));
}

#[test]
fn pulling_needs_admin_and_writes() {
    let p = policy(&[], None);
    let may = |role| {
        p.decide(&caller(role, Surface::Rest), Op::PULL, None)
            .allowed()
    };
    assert_eq!(
        (may(Role::Admin), may(Role::Operate), may(Role::Read)),
        (true, false, false)
    );
    let e = p
        .decide(&caller(Role::Operate, Surface::Rest), Op::PULL, None)
        .check("")
        .unwrap_err();
    assert_eq!(
        e.message(),
        "Role 'operate' does not allow 'pull': it needs the 'admin' role"
    );
    let read_only = policy(&[("READ_ONLY", "true")], None);
    let admin = caller(Role::Admin, Surface::Rest);
    let d = read_only.decide(&admin, Op::PULL, None);
    assert_eq!(d.refusal, Some(Refusal::ReadOnly));
}

#[test]
fn image_allow_is_asked_by_reference() {
    let open = policy(&[], None);
    assert!(open.check_image("anything:at-all").is_ok());
    let p = policy(&[("IMAGE_ALLOW", "alpine,127.0.0.1:5000/*")], None);
    assert!(p.check_image("alpine:3.20").is_ok());
    assert!(p.check_image("127.0.0.1:5000/t/app:1").is_ok());
    let e = p.check_image("nginx:latest").unwrap_err();
    assert_eq!(e.status(), 403);
    assert_eq!(
        e.message(),
        "IMAGE_ALLOW does not allow the image 'nginx:latest'"
    );
}

#[test]
fn the_audit_actions_are_spelled_as_documented() {
    let actions = [
        Op::START,
        Op::STOP,
        Op::RESTART,
        Op::PULL,
        Op::PAUSE,
        Op::UNPAUSE,
        Op::KILL,
        Op::CREATE,
        Op::REMOVE,
        Op::REMOVE_IMAGE,
        Op::EXEC,
        Op::INSPECT,
    ]
    .map(|op| op.action);
    assert_eq!(
        actions,
        [
            "container.start",
            "container.stop",
            "container.restart",
            "image.pull",
            "container.pause",
            "container.unpause",
            "container.kill",
            "container.create",
            "container.remove",
            "image.remove",
            "container.exec",
            "inspect"
        ]
    );
}
