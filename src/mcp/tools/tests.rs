//! The tools as listed and presented: names and order, definitions held to
//! the code's limits, what each era shows, and results fitted to the room.

use super::*;

fn definitions() -> Vec<Value> {
    ops::tools().map(|(_, t)| t).collect()
}

fn by_name(name: &str) -> Value {
    definitions()
        .into_iter()
        .find(|t| t["name"] == name)
        .unwrap()
}

fn op_of(name: &str) -> Op {
    ops::tool(name).unwrap().op
}

#[test]
fn the_definitions_hold_the_code_s_states_and_defaults() {
    let list = by_name("list_containers");
    let states = &list["inputSchema"]["properties"]["status"]["items"]["enum"];
    assert_eq!(*states, json!(crate::service::filters::STATUSES));
    let timeout = &by_name("stop_container")["inputSchema"]["properties"]["timeout"];
    let range = ops::actions::TIMEOUT;
    assert_eq!(
        (
            &timeout["default"],
            &timeout["minimum"],
            &timeout["maximum"]
        ),
        (&json!(range.default), &json!(range.min), &json!(range.max))
    );
    let logs = by_name("get_container_logs");
    let max = &logs["inputSchema"]["properties"]["max_bytes"];
    assert_eq!(max["maximum"], json!(crate::service::logs::MAX_LOG_BYTES));
    assert_eq!(max["default"], json!(64 << 10));
    assert_eq!(
        logs["inputSchema"]["properties"]["tail"]["maximum"],
        json!(ops::logs::MAX_TAIL)
    );
}

fn annotations(read_only: bool, destructive: bool, idempotent: bool) -> Value {
    json!({"readOnlyHint": read_only, "destructiveHint": destructive, "idempotentHint": idempotent, "openWorldHint": false})
}

#[test]
fn tools_keep_the_v1_names_and_order() {
    let names: Vec<String> = definitions()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names[..10],
        [
            "docker_health",
            "docker_version",
            "list_containers",
            "get_container",
            "get_container_logs",
            "get_container_stats",
            "list_images",
            "start_container",
            "stop_container",
            "restart_container",
        ],
        "the v1 contract's ten, in its order"
    );
    assert_eq!(
        names.last().map(String::as_str),
        Some("exec_in_container"),
        "the tool shown to few comes last"
    );
    for (o, t) in ops::tools() {
        assert_eq!(t["name"], o.name, "a tool is named as its operation");
    }
}

#[test]
fn every_tool_is_fully_described() {
    for t in definitions() {
        for key in [
            "title",
            "description",
            "inputSchema",
            "outputSchema",
            "annotations",
        ] {
            assert!(!t[key].is_null(), "{} lacks {key}", t["name"]);
        }
        assert_eq!(t["inputSchema"]["type"], "object");
        assert_eq!(t["outputSchema"]["type"], "object");
    }
    assert_eq!(
        by_name("get_container_logs")["inputSchema"]["properties"]["tail"]["default"],
        100
    );
    assert_eq!(
        by_name("restart_container")["inputSchema"]["required"],
        json!(["container_id"])
    );
    assert_eq!(
        by_name("list_containers")["annotations"]["readOnlyHint"],
        true
    );
    assert_eq!(
        by_name("stop_container")["annotations"]["destructiveHint"],
        true
    );
    assert_eq!(
        by_name("restart_container")["annotations"]["idempotentHint"],
        false
    );
    let pull = by_name("pull_image");
    assert_eq!(
        pull["annotations"],
        json!({"readOnlyHint": false, "destructiveHint": false, "idempotentHint": true, "openWorldHint": true})
    );
    assert_eq!(pull["inputSchema"]["required"], json!(["image"]));
    let create = by_name("create_container");
    let props = create["inputSchema"]["properties"].as_object().unwrap();
    let names: Vec<&str> = props.keys().map(String::as_str).collect();
    let mut fields = crate::service::spec::FIELDS.to_vec();
    fields.sort_unstable();
    assert_eq!(names, fields, "the same arguments as the REST body");
    assert_eq!(create["annotations"], annotations(false, false, false));
    for removal in ["remove_container", "remove_image"] {
        assert_eq!(
            by_name(removal)["annotations"],
            annotations(false, true, true)
        );
    }
    assert_eq!(
        by_name("remove_image")["outputSchema"]["required"][4],
        "deleted"
    );
    assert_eq!(
        by_name("remove_container")["inputSchema"]["properties"]["volumes"]["default"],
        false
    );
}

const OLD: Era = Era::Handshake("2025-03-26");
const NEW: Era = Era::Handshake("2025-06-18");

#[test]
fn output_schemas_are_listed_only_where_structured_content_exists() {
    let all = |_| true;
    assert!(
        list(OLD, &all, false)
            .iter()
            .all(|t| t.get("outputSchema").is_none())
    );
    assert!(
        list(NEW, &all, false)
            .iter()
            .all(|t| t["outputSchema"].is_object())
    );
    assert_eq!(list(OLD, &all, false).len(), definitions().len());
}

#[test]
fn only_the_tools_the_policy_allows_are_listed() {
    let reads = |op: Op| !op.mutates;
    let names: Vec<Value> = list(NEW, &reads, false)
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    let reading = ops::tools().filter(|(o, _)| !o.op.mutates).count();
    assert_eq!(names.len(), reading);
    assert!(reading >= 9, "the v1 contract's read tools at least");
    for action in [
        "start_container",
        "stop_container",
        "restart_container",
        "pause_container",
        "unpause_container",
        "kill_container",
    ] {
        assert!(!names.contains(&json!(action)), "{action}");
        assert!(op_of(action).mutates, "{action}");
    }
    for t in definitions() {
        let name = t["name"].as_str().unwrap();
        assert_eq!(
            op_of(name).mutates,
            t["annotations"]["readOnlyHint"] == false,
            "{name}: the operation and the read-only hint agree"
        );
    }
}

#[test]
fn a_result_is_sent_once_before_2025_06_18_and_compact_after() {
    let version = json!({"api_version": "1.47", "docker_version": "28.2.2"});
    let old = present(OLD, &version, &version).unwrap();
    assert!(old.get("structuredContent").is_none());
    assert_eq!(old["content"][0]["text"], version.to_string());
    let new = present(NEW, &version, &version).unwrap();
    assert_eq!(new["structuredContent"], version);
    assert_eq!(
        new["content"][0]["text"],
        version.to_string(),
        "compact JSON"
    );
    assert_eq!(new["isError"], false);
    let json = ops::Json {
        text: r#"{"images":[1],"total":1}"#.into(),
        shown: Some("[1]".into()),
    };
    let listed = present_json(NEW, json).unwrap();
    assert_eq!(
        listed["content"][0]["text"], "[1]",
        "the v1 text: the items"
    );
    assert_eq!(listed["structuredContent"]["total"], 1);
}

#[test]
fn the_log_limit_counts_every_byte_of_a_logs_result() {
    let text = "plain\n\u{1}\u{1b}[0m \"q\" \\ \t🐳 é\r\n";
    for era in [OLD, NEW] {
        let room = 10_000;
        let empty = ContainerLogs {
            container_id: "web".into(),
            logs: String::new(),
            tail: 10,
            truncated: true,
        };
        let limit = log_limit(era, &empty, room);
        let cost: usize = text.chars().map(limit.cost).sum();
        for truncated in [true, false] {
            let logs = ContainerLogs {
                container_id: "web".into(),
                logs: text.into(),
                tail: 10,
                truncated,
            };
            let size = encoded_len(&present_logs(era, &logs).unwrap());
            assert!(size <= room - limit.bytes + cost, "{era:?}");
            if truncated {
                assert_eq!(size, room - limit.bytes + cost, "{era:?}: exact");
            }
        }
    }
}

#[test]
fn a_command_s_output_is_cut_to_fit_the_answer() {
    let result = |out: &str, err: &str| ExecResult {
        exit_code: Some(0),
        stdout: out.into(),
        stderr: err.into(),
        truncated: false,
        timed_out: false,
    };
    let big = "line \"q\"\t\u{1}🐳\n".repeat(5000);
    for era in [OLD, NEW] {
        let room = 20_000;
        let fitted = fit_exec(era, result(&big, &big), room).unwrap();
        assert!(encoded_len(&fitted) <= room, "{era:?}");
        assert!(
            encoded_len(&fitted) > room - 200,
            "{era:?}: the room is used"
        );
        let text: Value =
            serde_json::from_str(fitted["content"][0]["text"].as_str().unwrap()).unwrap();
        assert_eq!(text["truncated"], true);
        let (out, err) = (
            text["stdout"].as_str().unwrap(),
            text["stderr"].as_str().unwrap(),
        );
        assert!(big.starts_with(out) && big.starts_with(err));
        assert!(
            out.len().abs_diff(err.len()) < 100,
            "halves: {} {}",
            out.len(),
            err.len()
        );
        let small = fit_exec(era, result("ok\n", &big), room).unwrap();
        let text: Value =
            serde_json::from_str(small["content"][0]["text"].as_str().unwrap()).unwrap();
        assert_eq!(text["stdout"], "ok\n", "a small stream is kept whole");
        assert!(encoded_len(&small) <= room);
        let whole = fit_exec(era, result("ok\n", "warn\n"), room).unwrap();
        assert_eq!(
            whole["content"][0]["text"],
            r#"{"exit_code":0,"stdout":"ok\n","stderr":"warn\n","truncated":false,"timed_out":false}"#
        );
    }
}

#[test]
fn service_errors_come_with_a_next_step() {
    assert!(explain(&Error::ContainerNotFound("web".into())).contains("list_containers"));
    assert!(explain(&Error::DockerUnavailable).contains("try again"));
}
