//! Tools across the fleet: `list_containers` on every host at once, and
//! the search for the host of a container named without one.

use super::*;

/// A tool's result from another host (its structured content, or the
/// text of its tool error), or why the host gave none. A host the probe
/// found unreachable is not asked (so it costs no deadline).
async fn ask_tool(
    ctx: &Ctx<'_>,
    (member, host): (&Remote, &str),
    tool: &str,
    args: Value,
) -> Result<Result<Value, String>, String> {
    let status = member.status();
    if status.state == State::Unreachable {
        return Err(status.reason.unwrap_or_else(|| "not reached yet".into()));
    }
    let params = json!({"name": tool, "arguments": args, "_meta": meta(ctx, &Value::Null, host)});
    let progress = Progress::default();
    let result = send(ctx, member, host, "tools/call", tool, params, &progress)
        .await
        .map_err(Failed::reason)?;
    if result["isError"] == true {
        let text = result.pointer("/content/0/text").and_then(Value::as_str);
        return Ok(Err(text.unwrap_or("the tool failed").to_string()));
    }
    let structured = result.get("structuredContent").cloned();
    structured
        .map(Ok)
        .ok_or_else(|| "its answer has no structured content".to_string())
}

/// A host that could not answer, and why.
#[derive(Serialize)]
pub struct Missing {
    pub host: String,
    pub reason: String,
}

/// Every host's containers, each tagged with its host (see the module doc).
#[derive(Serialize)]
pub struct Everywhere {
    pub containers: Vec<Value>,
    pub total: usize,
    pub missing: Vec<Missing>,
}

/// `list_containers` with `args` (no `host`) on every host.
pub async fn everywhere(ctx: &Ctx<'_>, args: &Map<String, Value>) -> Everywhere {
    let asked = ctx.app.fleet.every().into_iter().map(|(name, target)| {
        let host = name.clone();
        let answer: Asking<Value> = Box::pin(async move {
            match target {
                Target::Local => list_here(ctx, args).await,
                Target::Remote(member, _) => {
                    let tool = ops::LIST_CONTAINERS.name;
                    ask_tool(ctx, (&member, &host), tool, Value::Object(args.clone())).await?
                }
            }
        });
        (name, answer)
    });
    let answers = fanout::each(asked.collect()).await;
    let mut merged = Everywhere {
        containers: Vec::new(),
        total: 0,
        missing: Vec::new(),
    };
    for (host, answer) in answers {
        let host = host.as_str();
        let listed = answer.and_then(|mut list| match list["containers"].take() {
            Value::Array(items) => Ok(items),
            _ => Err("its answer lists no containers".to_string()),
        });
        match listed {
            Ok(items) => merged.containers.extend(items.into_iter().map(|mut c| {
                c[HOST] = json!(host);
                c
            })),
            Err(reason) => merged.missing.push(Missing {
                host: host.to_string(),
                reason,
            }),
        }
    }
    merged.total = merged.containers.len();
    merged
}

/// `list_containers` with `args` on this host: its structured answer.
async fn list_here(ctx: &Ctx<'_>, args: &Map<String, Value>) -> Result<Value, String> {
    let cx = ops::Cx {
        app: ctx.app,
        caller: ctx.caller,
        credential: ctx.presented.map(|s| s.expose()),
        log_fit: None,
    };
    let run = ops::run(&ops::LIST_CONTAINERS, &cx, Input::arguments(args)).await;
    match run.map_err(|e| explain(&e))? {
        Answer::Json(json) => serde_json::from_str(&json.text).map_err(|e| e.to_string()),
        _ => Err(explain(&Error::Internal)),
    }
}

/// Where a call not naming its host runs when it names a container this
/// host does not have (see the module doc): the one other host that has
/// it; else here (where it is not found as usual), or the message of a tool
/// error — several hosts have it, or some could not be asked.
pub async fn locate(ctx: &Ctx<'_>, args: &Map<String, Value>) -> Result<Where, String> {
    let here = Where::Here { named: false };
    let Some(reference) = args.get("container_id").and_then(Value::as_str) else {
        return Ok(here);
    };
    let members: Vec<(String, Arc<Remote>)> = ctx
        .app
        .fleet
        .every()
        .into_iter()
        .filter_map(|(name, t)| match t {
            Target::Remote(member, _) => Some((name, member)),
            Target::Local => None,
        })
        .collect();
    if members.is_empty() || through_fleet(ctx) {
        return Ok(here);
    }
    let service = &ctx.app.service;
    match service.target(ctx.caller, ops::INSPECT.op, reference).await {
        Err(Error::ContainerNotFound(_)) => {}
        _ => return Ok(here),
    }
    let asked = members.iter().map(|(name, member)| {
        let args = json!({"container_id": reference});
        let answer: Asking<Result<Value, String>> =
            Box::pin(ask_tool(ctx, (member, name), ops::INSPECT.name, args));
        (name.clone(), answer)
    });
    let answers = fanout::each(asked.collect()).await;
    let (mut holders, mut unasked) = (Vec::new(), Vec::new());
    for ((name, answer), (_, member)) in answers.into_iter().zip(&members) {
        match answer {
            Ok(Ok(_)) => holders.push((member.clone(), name)),
            Ok(Err(_not_there)) => {}
            Err(why) => unasked.push(format!("{name} ({why})")),
        }
    }
    let reference = clip(reference, crate::audit::MAX_TEXT);
    match holders.as_slice() {
        [(member, name)] => Ok(Where::There(member.clone(), name.clone())),
        [] if unasked.is_empty() => Ok(here),
        [] => Err(format!(
            "{} Hosts that could not be asked: {}.",
            explain(&Error::ContainerNotFound(reference)),
            unasked.join(", ")
        )),
        several => {
            let names: Vec<&str> = several.iter().map(|(_, n)| n.as_str()).collect();
            Err(format!(
                "Container '{reference}' is on several hosts: {}. Name the one you mean with the host argument.",
                names.join(", ")
            ))
        }
    }
}
