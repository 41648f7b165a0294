//! How a tool says it failed: a result with `isError: true` ([`failure`])
//! whose message a model can act on — a service error comes with its next
//! step ([`explain`]). The tools and the confirmation they may need answer
//! this way; only protocol problems are JSON-RPC errors.

use crate::error::{Error, clip};
use serde_json::{Value, json};

/// A tool error result carrying `message`.
pub(super) fn failure(message: &str) -> Value {
    json!({"content": [{"type": "text", "text": message}], "isError": true})
}

/// The service error as a message with a next step for the model.
pub(super) fn explain(e: &Error) -> String {
    let hint = match e {
        Error::ContainerNotFound(_) => " Call list_containers to see the containers on this host.",
        Error::AmbiguousContainer(_) => " Use a longer id prefix or the container name.",
        Error::DockerUnavailable | Error::DockerTimeout => {
            " The Docker daemon is not answering; try again later."
        }
        Error::UnknownHost(_) => " Call list_hosts to see each host's name and id.",
        _ => "",
    };
    let named = match e {
        Error::Validation(problems) => {
            let names: Vec<String> = problems
                .iter()
                .filter_map(|p| p.loc.last()?.as_str().map(|n| format!("'{n}'")))
                .collect();
            format!("Invalid arguments ({}): ", names.join(", "))
        }
        _ => String::new(),
    };
    let message = match e {
        // REST's message points to REST's listing; the hint names the tool.
        Error::UnknownHost(host) => format!("No host '{}' in the fleet", clip(host, 128)),
        _ => e.message(),
    };
    let stop = if message.ends_with('.') { "" } else { "." };
    format!("{named}{message}{stop}{hint}")
}
