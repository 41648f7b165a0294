//! The body of a container create (REST `POST /api/v1/containers/` and the
//! MCP tool `create_container`, same field names), read through the one
//! input reader ([`Input`]) into a [`Spec`] and turned into Docker's
//! create JSON.
//!
//! Only the documented [`FIELDS`] are read; any other field is a 422
//! naming it, and Docker's JSON is built from the spec alone, field by
//! field, so nothing outside the documented set can reach Docker. Fields
//! that reach outside the container are listed by [`Spec::host_fields`],
//! and bind sources are kept apart ([`Bind`]), for the policy to judge
//! ([`crate::policy::host`]) and the service to resolve.

use crate::input::Input;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Every field a create body may hold.
pub const FIELDS: [&str; 20] = [
    "image",
    "name",
    "cmd",
    "entrypoint",
    "env",
    "labels",
    "ports",
    "restart_policy",
    "memory_limit",
    "cpu_shares",
    "start",
    "privileged",
    "network_mode",
    "pid_mode",
    "ipc_mode",
    "uts_mode",
    "binds",
    "devices",
    "cap_add",
    "security_opt",
];

/// A create request, checked.
#[derive(Debug, Default, PartialEq)]
pub struct Spec {
    pub image: String,
    pub name: Option<String>,
    pub cmd: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    /// `NAME=value`, in name order.
    pub env: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// Container port (`8080/tcp`) → its host bindings (`HostIp`, `HostPort`).
    pub ports: BTreeMap<String, Vec<(String, String)>>,
    /// Docker's name and the retry count (on-failure only).
    pub restart_policy: Option<(String, u32)>,
    pub memory_limit: Option<i64>,
    pub cpu_shares: Option<i64>,
    pub start: bool,
    pub privileged: bool,
    pub network_mode: Option<String>,
    pub pid_mode: Option<String>,
    pub ipc_mode: Option<String>,
    pub uts_mode: Option<String>,
    pub binds: Vec<Bind>,
    pub devices: Vec<String>,
    pub cap_add: Vec<String>,
    pub security_opt: Vec<String>,
}

/// One bind as `docker run -v` takes it, its source apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    /// A host path (absolute) or a volume name.
    pub source: String,
    /// `:/destination[:options]`.
    pub rest: String,
}

impl Bind {
    /// Whether the source is a host path rather than a volume name.
    pub fn is_host_path(&self) -> bool {
        self.source.starts_with('/')
    }
}

/// Reads a create body's fields by their kinds, problems left in the input.
struct Reader<'i, 'a> {
    input: &'i mut Input<'a>,
}

/// A string a container setting may hold: no NUL, at most 64 Ki characters.
fn plain(s: &str) -> bool {
    !s.contains('\0') && s.len() <= 65_536
}

/// A name Docker allows for containers, networks and volumes.
fn docker_name(s: &str) -> bool {
    super::check_container_ref(s).is_ok()
}

impl<'a> Reader<'_, 'a> {
    fn fail(&mut self, field: &str, kind: &'static str, msg: impl Into<String>) {
        self.input.fail(field, kind, msg);
    }

    fn get(&mut self, field: &str) -> Option<&'a Value> {
        self.input.value(field)
    }

    fn string(&mut self, field: &str) -> Option<String> {
        match self.get(field)? {
            Value::String(s) if plain(s) => Some(s.clone()),
            _ => {
                self.fail(field, "string_type", "Input should be a valid string");
                None
            }
        }
    }

    fn strings(&mut self, field: &str) -> Option<Vec<String>> {
        let items = match self.get(field)? {
            Value::Array(items) => items.iter().map(|v| v.as_str().filter(|s| plain(s))),
            _ => {
                self.fail(
                    field,
                    "list_type",
                    "Input should be a valid list of strings",
                );
                return None;
            }
        };
        let items: Option<Vec<String>> = items.map(|s| s.map(String::from)).collect();
        if items.is_none() {
            self.fail(field, "string_type", "Every item should be a valid string");
        }
        items
    }

    /// An object of strings; `what` says what it holds, for the message.
    fn map(&mut self, field: &str, what: &str) -> BTreeMap<String, String> {
        let Some(value) = self.get(field) else {
            return BTreeMap::new();
        };
        let pairs: Option<BTreeMap<String, String>> = value.as_object().and_then(|m| {
            m.iter()
                .map(|(k, v)| {
                    let ok = !k.is_empty() && plain(k) && !(field == "env" && k.contains('='));
                    let v = v.as_str().filter(|v| ok && plain(v))?;
                    Some((k.clone(), v.to_string()))
                })
                .collect()
        });
        pairs.unwrap_or_else(|| {
            self.fail(
                field,
                "dict_type",
                format!("Input should be an object of {what}"),
            );
            BTreeMap::new()
        })
    }

    fn bool(&mut self, field: &str) -> bool {
        match self.get(field) {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.fail(field, "bool_type", "Input should be a valid boolean");
                false
            }
        }
    }

    fn int(&mut self, field: &str, max: i64) -> Option<i64> {
        let n = self.get(field)?.as_i64().filter(|n| (0..=max).contains(n));
        if n.is_none() {
            self.fail(
                field,
                "int_type",
                format!("Input should be an integer from 0 to {max}"),
            );
        }
        n
    }

    /// `field` as a string checked by `check`, which says what is wrong.
    fn checked<T>(&mut self, field: &str, check: impl Fn(&str) -> Result<T, String>) -> Option<T> {
        let s = self.string(field)?;
        check(&s)
            .map_err(|msg| self.fail(field, "value_error", msg))
            .ok()
    }

    /// Each item of a list of strings, checked by `check`.
    fn each<T>(&mut self, field: &str, check: impl Fn(&str) -> Result<T, String>) -> Vec<T> {
        let items = self.strings(field).unwrap_or_default();
        let checked: Result<Vec<T>, String> = items.iter().map(|s| check(s)).collect();
        checked
            .map_err(|msg| self.fail(field, "value_error", msg))
            .unwrap_or_default()
    }
}

/// An image reference: the characters Docker allows in one.
fn image(s: &str) -> Result<String, String> {
    let ok = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_.-/:@".contains(&b));
    if ok && !s.is_empty() && s.len() <= 512 && !s.starts_with(['-', '.', '/', ':']) {
        Ok(s.to_string())
    } else {
        Err(
            "Input should be an image reference such as alpine:3.20 or registry.local:5000/app:1"
                .into(),
        )
    }
}

/// `no`, `always`, `unless-stopped`, `on-failure` or `on-failure:N`.
fn restart_policy(s: &str) -> Result<(String, u32), String> {
    let (name, count) = s.split_once(':').unwrap_or((s, ""));
    let count = match (name, count) {
        ("no" | "always" | "unless-stopped" | "on-failure", "") => Some(0),
        ("on-failure", n) => n.parse().ok(),
        _ => None,
    };
    count.map(|c| (name.to_string(), c)).ok_or_else(|| {
        "Input should be no, always, unless-stopped, on-failure or on-failure:N".into()
    })
}

/// Bytes, as a number or a string with a unit (`512k`, `256m`, `1g`), as `docker run -m`.
fn memory(v: &Value) -> Result<i64, String> {
    let why =
        || "Input should be bytes: an integer, or a string such as 512k, 256m or 1g".to_string();
    if let Some(n) = v.as_i64().filter(|n| *n >= 0) {
        return Ok(n);
    }
    let s = v.as_str().ok_or_else(why)?.trim().to_ascii_lowercase();
    let s = s.strip_suffix("ib").or(s.strip_suffix('b')).unwrap_or(&s);
    let (digits, shift) = match s.as_bytes().last() {
        Some(b'k') => (&s[..s.len() - 1], 10),
        Some(b'm') => (&s[..s.len() - 1], 20),
        Some(b'g') => (&s[..s.len() - 1], 30),
        Some(b't') => (&s[..s.len() - 1], 40),
        _ => (s, 0),
    };
    let n: i64 = digits.parse().ok().filter(|n| *n >= 0).ok_or_else(why)?;
    n.checked_mul(1 << shift).ok_or_else(why)
}

/// A port as `docker run -p` takes it: `[ip:][host_port:]container_port[/proto]`.
fn port(s: &str) -> Result<(String, String, String), String> {
    let why = || {
        format!(
            "'{}' is not a port; write it as docker run -p does: 8080, 18080:8080, \
             127.0.0.1:18080:8080 or 18080:8080/udp",
            crate::error::clip(s, 64)
        )
    };
    let (spec, proto) = s.split_once('/').unwrap_or((s, "tcp"));
    if !matches!(proto, "tcp" | "udp" | "sctp") {
        return Err(why());
    }
    let (rest, container) = spec.rsplit_once(':').unwrap_or(("", spec));
    let (ip, host) = match rest.rsplit_once(':') {
        Some((ip, host)) => (ip.trim_start_matches('[').trim_end_matches(']'), host),
        None => ("", rest),
    };
    let number = |p: &str| p.parse::<u16>().ok().filter(|p| *p > 0);
    let ip_ok = ip.is_empty() || ip.parse::<std::net::IpAddr>().is_ok();
    match number(container) {
        Some(c) if ip_ok && (host.is_empty() || number(host).is_some()) => {
            Ok((format!("{c}/{proto}"), ip.to_string(), host.to_string()))
        }
        _ => Err(why()),
    }
}

/// A namespace mode: `allowed` values are the container's own; `host` and
/// `container:<name>` reach outside it.
fn mode(
    field: &'static str,
    allowed: &'static [&'static str],
) -> impl Fn(&str) -> Result<String, String> {
    move |s: &str| {
        let joins = s.strip_prefix("container:").is_some_and(docker_name);
        let own = allowed.contains(&s) || (field == "network_mode" && docker_name(s));
        if own || joins || s == "host" {
            Ok(s.to_string())
        } else {
            Err(format!(
                "Input should be one of {}, host or container:<name>",
                allowed.join(", ")
            ))
        }
    }
}

/// A bind as `docker run -v` takes it: `source:/destination[:options]`,
/// the source a host path or a volume name.
fn bind(s: &str) -> Result<Bind, String> {
    let why = || {
        format!(
            "'{}' is not a bind; write source:/destination[:ro], the source a host path or a volume name",
            crate::error::clip(s, 64)
        )
    };
    let mut parts = s.split(':');
    let (source, dest) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let options = parts.next().unwrap_or("");
    const OPTIONS: [&str; 9] = [
        "ro", "rw", "z", "Z", "nocopy", "private", "rprivate", "slave", "rslave",
    ];
    let options_ok = options.is_empty() || options.split(',').all(|o| OPTIONS.contains(&o));
    let source_ok = source.starts_with('/') || docker_name(source);
    if parts.next().is_none() && source_ok && dest.starts_with('/') && options_ok {
        Ok(Bind {
            source: source.to_string(),
            rest: s[source.len()..].to_string(),
        })
    } else {
        Err(why())
    }
}

/// Why a field outside [`FIELDS`] is refused.
fn unknown(field: &str) -> String {
    let hint = match field {
        "volumes" | "mounts" => "; bind mounts go in 'binds'",
        _ => "",
    };
    format!(
        "Extra inputs are not permitted: the fields are {}{hint}",
        FIELDS.join(", ")
    )
}

impl Spec {
    /// Reads a create body's fields from `input`, its problems left there
    /// (and every other field refused, MCP arguments included).
    pub fn read(input: &mut Input) -> Spec {
        input.strict();
        input.explain_extra(unknown);
        let mut r = Reader { input };
        let env_list = r.get("env").is_some_and(Value::is_array);
        if env_list {
            r.fail(
                "env",
                "dict_type",
                "Input should be an object of NAME: value, not a list of NAME=value",
            );
        }
        let image = match r.get("image") {
            None => {
                r.fail("image", "missing", "Field required");
                None
            }
            Some(_) => r.checked("image", image),
        };
        let memory_limit = r.get("memory_limit").and_then(|v| {
            memory(v)
                .map_err(|msg| r.fail("memory_limit", "value_error", msg))
                .ok()
        });
        Spec {
            image: image.unwrap_or_default(),
            name: r.checked("name", |s| {
                docker_name(s).then(|| s.to_string()).ok_or_else(|| {
                    "Input should be a name of [a-zA-Z0-9][a-zA-Z0-9_.-]*".to_string()
                })
            }),
            cmd: r.strings("cmd"),
            entrypoint: r.strings("entrypoint"),
            env: if env_list {
                Vec::new()
            } else {
                r.map("env", "NAME: value strings")
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect()
            },
            labels: r.map("labels", "strings"),
            ports: r.each("ports", port).into_iter().fold(
                BTreeMap::new(),
                |mut m, (key, ip, host)| {
                    m.entry(key).or_insert_with(Vec::new).push((ip, host));
                    m
                },
            ),
            restart_policy: r.checked("restart_policy", restart_policy),
            memory_limit,
            cpu_shares: r.int("cpu_shares", 262_144),
            start: r.bool("start"),
            privileged: r.bool("privileged"),
            network_mode: r.checked(
                "network_mode",
                mode("network_mode", &["bridge", "none", "default"]),
            ),
            pid_mode: r.checked("pid_mode", mode("pid_mode", &[""])),
            ipc_mode: r.checked(
                "ipc_mode",
                mode("ipc_mode", &["", "none", "private", "shareable"]),
            ),
            uts_mode: r.checked("uts_mode", mode("uts_mode", &[""])),
            binds: r.each("binds", bind),
            devices: r.strings("devices").unwrap_or_default(),
            cap_add: r.strings("cap_add").unwrap_or_default(),
            security_opt: r.strings("security_opt").unwrap_or_default(),
        }
    }

    /// The fields that hand out the host whatever their value (see
    /// [`crate::policy::host`]); host paths are the binds' to say.
    pub fn host_fields(&self) -> Vec<&'static str> {
        let outside = |m: &Option<String>| {
            m.as_deref()
                .is_some_and(|m| m == "host" || m.starts_with("container:"))
        };
        let mut asks = Vec::new();
        let fields = [
            ("privileged", self.privileged),
            ("network_mode", outside(&self.network_mode)),
            ("pid_mode", outside(&self.pid_mode)),
            ("ipc_mode", outside(&self.ipc_mode)),
            ("uts_mode", outside(&self.uts_mode)),
            ("devices", !self.devices.is_empty()),
            ("cap_add", !self.cap_add.is_empty()),
            (
                "security_opt",
                self.security_opt.iter().any(|o| !no_new_privileges(o)),
            ),
        ];
        for (field, asked) in fields {
            if asked {
                asks.push(field);
            }
        }
        asks
    }

    /// Docker's create body: the spec's fields, and nothing else, with
    /// `labels` (the user's, plus the agent's own) in place of the spec's.
    pub fn docker_body(&self, labels: &BTreeMap<String, String>) -> Value {
        let mut body = json!({"Image": self.image, "Labels": labels});
        let mut host = Map::new();
        let set = |map: &mut Map<String, Value>, key: &str, v: Value| {
            map.insert(key.to_string(), v);
        };
        let config = body.as_object_mut().expect("an object");
        if let Some(cmd) = &self.cmd {
            set(config, "Cmd", json!(cmd));
        }
        if let Some(ep) = &self.entrypoint {
            set(config, "Entrypoint", json!(ep));
        }
        if !self.env.is_empty() {
            set(config, "Env", json!(self.env));
        }
        if !self.ports.is_empty() {
            let exposed: Map<String, Value> =
                self.ports.keys().map(|k| (k.clone(), json!({}))).collect();
            set(config, "ExposedPorts", Value::Object(exposed));
            let bindings: Map<String, Value> = self
                .ports
                .iter()
                .map(|(k, b)| {
                    let b: Vec<Value> = b
                        .iter()
                        .map(|(ip, port)| json!({"HostIp": ip, "HostPort": port}))
                        .collect();
                    (k.clone(), json!(b))
                })
                .collect();
            set(&mut host, "PortBindings", Value::Object(bindings));
        }
        if let Some((name, count)) = &self.restart_policy {
            set(
                &mut host,
                "RestartPolicy",
                json!({"Name": name, "MaximumRetryCount": count}),
            );
        }
        let numbers = [
            ("Memory", self.memory_limit),
            ("CpuShares", self.cpu_shares),
        ];
        for (key, n) in numbers {
            if let Some(n) = n {
                set(&mut host, key, json!(n));
            }
        }
        if self.privileged {
            set(&mut host, "Privileged", json!(true));
        }
        let modes = [
            ("NetworkMode", &self.network_mode),
            ("PidMode", &self.pid_mode),
            ("IpcMode", &self.ipc_mode),
            ("UTSMode", &self.uts_mode),
        ];
        for (key, m) in modes {
            if let Some(m) = m {
                set(&mut host, key, json!(m));
            }
        }
        let binds: Vec<String> = self
            .binds
            .iter()
            .map(|b| format!("{}{}", b.source, b.rest))
            .collect();
        let lists = [
            ("Binds", &binds),
            ("CapAdd", &self.cap_add),
            ("SecurityOpt", &self.security_opt),
        ];
        for (key, l) in lists {
            if !l.is_empty() {
                set(&mut host, key, json!(l));
            }
        }
        if !self.devices.is_empty() {
            let devices: Vec<Value> = self.devices.iter().map(|d| device(d)).collect();
            set(&mut host, "Devices", json!(devices));
        }
        body["HostConfig"] = Value::Object(host);
        body
    }
}

/// `no-new-privileges` in the spellings Docker accepts: the one security
/// option that only takes away.
fn no_new_privileges(o: &str) -> bool {
    matches!(
        o,
        "no-new-privileges" | "no-new-privileges:true" | "no-new-privileges=true"
    )
}

/// `host[:container[:permissions]]` as Docker's device mapping.
fn device(d: &str) -> Value {
    let mut parts = d.splitn(3, ':');
    let host = parts.next().unwrap_or("");
    let inside = parts.next().filter(|s| !s.is_empty()).unwrap_or(host);
    let perms = parts.next().unwrap_or("rwm");
    json!({"PathOnHost": host, "PathInContainer": inside, "CgroupPermissions": perms})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn parse(body: Value) -> Result<Spec, Error> {
        let mut input = Input::body(Vec::new(), body.as_object().unwrap());
        let spec = Spec::read(&mut input);
        input.finish().map(|()| spec)
    }

    fn problems(body: Value) -> Vec<(String, &'static str)> {
        match parse(body) {
            Err(Error::Validation(errs)) => errs
                .into_iter()
                .map(|e| (e.loc[1].as_str().unwrap().to_string(), e.kind))
                .collect(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn a_full_body_becomes_exactly_this_docker_json() {
        let spec = parse(json!({
            "image": "registry.local:5000/app:1", "name": "web-1", "cmd": ["serve", "--port", "80"],
            "entrypoint": ["/bin/app"], "env": {"MODE": "prod", "EMPTY": ""}, "labels": {"tier": "web"},
            "ports": ["18080:80", "127.0.0.1:18443:443/tcp", "53/udp", "[::1]::9000"],
            "restart_policy": "on-failure:3", "memory_limit": "256m", "cpu_shares": 512, "start": true,
            "privileged": false, "network_mode": "bridge", "binds": ["data:/data:ro"],
            "security_opt": ["no-new-privileges"]
        }))
        .unwrap();
        assert!(spec.start);
        assert_eq!(spec.name.as_deref(), Some("web-1"));
        assert!(spec.host_fields().is_empty());
        let labels = BTreeMap::from([("tier".to_string(), "web".to_string())]);
        assert_eq!(
            spec.docker_body(&labels),
            json!({
                "Image": "registry.local:5000/app:1",
                "Labels": {"tier": "web"},
                "Cmd": ["serve", "--port", "80"],
                "Entrypoint": ["/bin/app"],
                "Env": ["EMPTY=", "MODE=prod"],
                "ExposedPorts": {"443/tcp": {}, "53/udp": {}, "80/tcp": {}, "9000/tcp": {}},
                "HostConfig": {
                    "PortBindings": {
                        "443/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18443"}],
                        "53/udp": [{"HostIp": "", "HostPort": ""}],
                        "80/tcp": [{"HostIp": "", "HostPort": "18080"}],
                        "9000/tcp": [{"HostIp": "::1", "HostPort": ""}]
                    },
                    "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3},
                    "Memory": 268435456,
                    "CpuShares": 512,
                    "NetworkMode": "bridge",
                    "Binds": ["data:/data:ro"],
                    "SecurityOpt": ["no-new-privileges"]
                }
            })
        );
    }

    #[test]
    fn the_least_body_sends_the_image_the_labels_and_an_empty_host_config() {
        let spec = parse(json!({"image": "alpine"})).unwrap();
        assert!(!spec.start);
        let labels = BTreeMap::from([("docker-agent.created-by".to_string(), "a".to_string())]);
        assert_eq!(
            spec.docker_body(&labels),
            json!({"Image": "alpine", "Labels": {"docker-agent.created-by": "a"}, "HostConfig": {}})
        );
    }

    #[test]
    fn unknown_fields_are_named_and_nothing_else_passes() {
        let found = problems(
            json!({"image": "a", "Privileged": true, "HostConfig": {}, "volumes": ["/:/host"], "user": "0"}),
        );
        assert_eq!(
            found,
            [
                ("HostConfig".to_string(), "extra_forbidden"),
                ("Privileged".to_string(), "extra_forbidden"),
                ("user".to_string(), "extra_forbidden"),
                ("volumes".to_string(), "extra_forbidden"),
            ]
        );
        let Err(Error::Validation(errs)) = parse(json!({"image": "a", "mounts": []})) else {
            panic!()
        };
        assert!(
            errs[0].msg.ends_with("bind mounts go in 'binds'"),
            "{}",
            errs[0].msg
        );
    }

    #[test]
    fn bad_values_are_422_naming_each_field() {
        let found = problems(json!({
            "name": "a/b", "cmd": "sh", "entrypoint": [1], "env": ["A=1"], "labels": {"a": 1},
            "ports": ["80:80:80:80"], "restart_policy": "sometimes", "memory_limit": "lots",
            "cpu_shares": -1, "start": "yes", "network_mode": "a b", "pid_mode": "private",
            "binds": ["relative:/x"]
        }));
        let fields: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
        for f in FIELDS[..11].iter().chain(&["network_mode", "pid_mode"]) {
            assert!(fields.contains(f), "{f} in {fields:?}");
        }
        assert!(found.contains(&("image".to_string(), "missing")));
        assert_eq!(
            problems(json!({"image": "a", "binds": ["/x:relative"]})),
            [("binds".to_string(), "value_error")]
        );
        assert_eq!(
            problems(json!({"image": "a", "binds": ["/x:/y:rshared"]})),
            [("binds".to_string(), "value_error")]
        );
        assert_eq!(
            problems(json!({"image": "a", "env": {"A=B": "c"}})),
            [("env".to_string(), "dict_type")]
        );
        assert_eq!(
            problems(json!({"image": "a\u{0}b"})),
            [("image".to_string(), "string_type")]
        );
        assert_eq!(
            problems(json!({"image": "-a"})),
            [("image".to_string(), "value_error")]
        );
    }

    #[test]
    fn memory_takes_bytes_or_docker_units() {
        for (v, bytes) in [
            (json!(1024), 1024),
            (json!("512k"), 512 << 10),
            (json!("256M"), 256 << 20),
            (json!("1g"), 1 << 30),
            (json!("2gb"), 2 << 30),
            (json!("64mib"), 64 << 20),
            (json!("100"), 100),
        ] {
            assert_eq!(memory(&v), Ok(bytes), "{v}");
        }
        for v in [
            json!(-1),
            json!("1.5g"),
            json!("g"),
            json!("9999999999999t"),
            json!(true),
        ] {
            assert!(memory(&v).is_err(), "{v}");
        }
    }

    #[test]
    fn fields_that_reach_the_host_are_listed_by_name() {
        let spec = parse(json!({
            "image": "a", "privileged": true, "network_mode": "host", "pid_mode": "host",
            "ipc_mode": "container:db", "uts_mode": "host", "devices": ["/dev/sda"], "cap_add": ["NET_ADMIN"],
            "security_opt": ["seccomp=unconfined"], "binds": ["/etc:/host-etc", "vol:/data"]
        }))
        .unwrap();
        assert_eq!(
            spec.host_fields(),
            [
                "privileged",
                "network_mode",
                "pid_mode",
                "ipc_mode",
                "uts_mode",
                "devices",
                "cap_add",
                "security_opt",
            ]
        );
        let sources: Vec<(&str, bool)> = spec
            .binds
            .iter()
            .map(|b| (b.source.as_str(), b.is_host_path()))
            .collect();
        assert_eq!(sources, [("/etc", true), ("vol", false)]);
        assert_eq!(spec.binds[1].rest, ":/data");
        let tame = parse(
            json!({"image": "a", "network_mode": "my-net", "ipc_mode": "private",
                                "security_opt": ["no-new-privileges:true"]}),
        )
        .unwrap();
        assert!(tame.host_fields().is_empty());
        let d = device("/dev/fuse");
        assert_eq!(
            d,
            json!({"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/fuse", "CgroupPermissions": "rwm"})
        );
    }
}
