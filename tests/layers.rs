//! Holds `src/` to the layer table at the top of `src/lib.rs`: every module
//! is in exactly one row, every `crate::` import (and every `super::` that
//! reaches the crate root) runs to a row with a smaller number, and the
//! files of one module import each other one way (no circle among
//! siblings; a parent's `mod.rs` is not a sibling). Unit tests are left
//! out: a `tests.rs` file and a trailing `#[cfg(test)] mod tests { … }`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The rows of the table: module name → row number.
fn table() -> BTreeMap<String, usize> {
    let lib = fs::read_to_string(src().join("lib.rs")).expect("src/lib.rs");
    let mut rows = BTreeMap::new();
    let mut row = None;
    let mut in_table = false;
    for line in lib.lines() {
        let Some(doc) = line.strip_prefix("//!") else {
            break;
        };
        let doc = doc.trim();
        if doc.starts_with('#') {
            in_table = doc == "# Layers";
            continue;
        }
        if !in_table {
            continue;
        }
        if let Some((n, _)) = doc.split_once(". ") {
            if let Ok(n) = n.parse::<usize>() {
                row = Some(n);
            }
        }
        if doc.is_empty() {
            row = None;
        }
        let Some(n) = row else { continue };
        for name in doc.split("[`").skip(1).filter_map(|s| s.split_once("`]")) {
            let previous = rows.insert(name.0.to_string(), n);
            assert!(
                previous.is_none_or(|p| p == n),
                "`{}` is in two rows of the layer table",
                name.0
            );
        }
    }
    rows
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The modules `src/lib.rs` declares.
fn declared() -> BTreeSet<String> {
    let lib = fs::read_to_string(src().join("lib.rs")).expect("src/lib.rs");
    lib.lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';').to_string())
        .collect()
}

/// A source file and its module path (`["mcp", "sse"]` for `src/mcp/sse.rs`).
struct File {
    path: PathBuf,
    module: Vec<String>,
    code: String,
}

fn files() -> Vec<File> {
    let mut out = Vec::new();
    walk(&src(), &mut Vec::new(), &mut out);
    out
}

fn walk(dir: &Path, at: &mut Vec<String>, out: &mut Vec<File>) {
    let mut entries: Vec<_> = fs::read_dir(dir).expect("read src").flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if path.is_dir() {
            if name != "tests" {
                at.push(name);
                walk(&path, at, out);
                at.pop();
            }
            continue;
        }
        let Some(stem) = name.strip_suffix(".rs") else {
            continue;
        };
        if stem == "tests" || (at.is_empty() && matches!(stem, "lib" | "main")) {
            continue;
        }
        let mut module = at.clone();
        if stem != "mod" {
            module.push(stem.to_string());
        }
        let text = fs::read_to_string(&path).expect("read a source file");
        out.push(File {
            path,
            module,
            code: code_of(&text),
        });
    }
}

/// The text without comment lines and without the trailing unit tests.
fn code_of(text: &str) -> String {
    let mut lines = Vec::new();
    let mut all = text.lines().peekable();
    while let Some(line) = all.next() {
        let t = line.trim();
        if t == "#[cfg(test)]" {
            match all.peek().map(|l| l.trim()) {
                Some("mod tests {") => break,
                Some("mod tests;") => {
                    all.next();
                    continue;
                }
                _ => {}
            }
        }
        if !t.starts_with("//") {
            lines.push(line);
        }
    }
    lines.join("\n")
}

/// The absolute module paths `file` names: each `crate::…` and each
/// `super::…` resolved, with `{a, b}` groups expanded one level.
fn references(file: &File) -> Vec<(Vec<String>, String)> {
    let mut out = Vec::new();
    let code = &file.code;
    let mut at = 0;
    while let Some(found) = next_path_start(code, at) {
        let (base, rest_at) = match found {
            Start::Crate(i) => (Vec::new(), i + "crate::".len()),
            Start::Super(i) => {
                let mut k = 0;
                let mut j = i;
                while code[j..].starts_with("super::") {
                    k += 1;
                    j += "super::".len();
                }
                // `super` of a file is its parent module; of a `mod.rs`,
                // the parent of the module the directory is.
                let parent = file.module.len().saturating_sub(k);
                (file.module[..parent].to_vec(), j)
            }
        };
        at = rest_at;
        let spelled = &code[found.index()..];
        let spelled =
            spelled[..spelled.find(['\n', ';', '(']).unwrap_or(spelled.len())].to_string();
        for tail in group(&code[rest_at..]) {
            let mut path = base.clone();
            path.extend(tail);
            if !out.iter().any(|(p, _)| *p == path) {
                out.push((path, spelled.clone()));
            }
        }
    }
    out
}

enum Start {
    Crate(usize),
    Super(usize),
}

impl Start {
    fn index(&self) -> usize {
        match self {
            Start::Crate(i) | Start::Super(i) => *i,
        }
    }
}

/// The next `crate::` or leading `super::` at or after `from`, not part of
/// a longer name (`docker_agent::crate::` cannot occur; `x_super::` can).
fn next_path_start(code: &str, from: usize) -> Option<Start> {
    let word_start = |i: usize| {
        i == 0 || {
            let b = code.as_bytes()[i - 1];
            !(b.is_ascii_alphanumeric() || b == b'_' || b == b':')
        }
    };
    let mut i = from;
    loop {
        let c = code[i..].find("crate::").map(|p| p + i);
        let s = code[i..].find("super::").map(|p| p + i);
        let (next, is_crate) = match (c, s) {
            (Some(c), Some(s)) if c < s => (c, true),
            (_, Some(s)) => (s, false),
            (Some(c), None) => (c, true),
            (None, None) => return None,
        };
        if word_start(next) {
            return Some(if is_crate {
                Start::Crate(next)
            } else {
                Start::Super(next)
            });
        }
        i = next + 1;
    }
}

/// The paths written at the start of `rest`: `a::b::C` gives `[a, b]`
/// (names that start lower-case: modules), `{a::x, b}` gives `[a]` and `[b]`.
fn group(rest: &str) -> Vec<Vec<String>> {
    if let Some(inner) = rest.strip_prefix('{') {
        let mut depth = 0;
        let mut end = inner.len();
        for (i, ch) in inner.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    end = i;
                    break;
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        let mut out = Vec::new();
        let mut depth = 0;
        let mut item = 0;
        let inner = &inner[..end];
        for (i, ch) in inner.char_indices().chain([(inner.len(), ',')]) {
            match ch {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    out.extend(group(inner[item..i].trim()));
                    item = i + 1;
                }
                _ => {}
            }
        }
        return out;
    }
    let mut path = Vec::new();
    let mut rest = rest;
    loop {
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let name = &rest[..len];
        if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_lowercase()) || name == "self"
        {
            break;
        }
        path.push(name.to_string());
        match rest[len..].strip_prefix("::") {
            Some(more) if more.starts_with('{') => {
                return group(more)
                    .into_iter()
                    .map(|tail| path.iter().cloned().chain(tail).collect())
                    .collect();
            }
            Some(more) => rest = more,
            None => break,
        }
    }
    vec![path]
}

fn shown(path: &Path) -> String {
    path.strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")))
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn every_module_is_in_one_row_of_the_table() {
    let rows: BTreeSet<String> = table().into_keys().collect();
    let declared = declared();
    let missing: Vec<_> = declared.difference(&rows).collect();
    let extra: Vec<_> = rows.difference(&declared).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the layer table in src/lib.rs does not match the modules it declares: \
         missing {missing:?}, not modules {extra:?}"
    );
}

#[test]
fn every_import_runs_down_the_table() {
    let rows = table();
    let mut wrong = BTreeSet::new();
    for file in files() {
        let from = &file.module[0];
        let Some(&row) = rows.get(from) else { continue };
        for (path, spelled) in references(&file) {
            let Some(to) = path.first() else { continue };
            if to == from {
                continue;
            }
            match rows.get(to) {
                Some(&to_row) if to_row < row => {}
                Some(&to_row) => {
                    wrong.insert(format!(
                        "{}: `{spelled}` imports {to} (row {to_row}) from row {row}",
                        shown(&file.path)
                    ));
                }
                None => {}
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that do not run down the layer table:\n{}",
        wrong.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// Each sibling file a file imports: importer → imported → how it is written.
type Edges = BTreeMap<Vec<String>, BTreeMap<Vec<String>, String>>;

fn sibling_edges(files: &[File]) -> Edges {
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| f.module.clone()).collect();
    let mut edges = Edges::new();
    for file in files {
        let me = &file.module;
        if me.len() < 2 {
            continue;
        }
        let parent = &me[..me.len() - 1];
        for (path, spelled) in references(file) {
            if path.len() < me.len() || path[..parent.len()] != *parent {
                continue;
            }
            let sibling = path[..me.len()].to_vec();
            if sibling != *me && modules.contains(&sibling) {
                edges
                    .entry(me.clone())
                    .or_default()
                    .entry(sibling)
                    .or_insert(format!("{}: `{spelled}`", shown(&file.path)));
            }
        }
    }
    edges
}

#[test]
fn the_files_of_a_module_import_each_other_one_way() {
    let edges = sibling_edges(&files());
    let mut circles = Vec::new();
    for (a, to) in &edges {
        for (b, why) in to {
            if let Some(back) = route(&edges, b, a) {
                circles.push(format!("{why}\n  and back: {}", back.join(" → ")));
            }
        }
    }
    assert!(
        circles.is_empty(),
        "files of one module that import each other in a circle:\n{}",
        circles.join("\n")
    );
}

/// A module whose `mod.rs` has a `# Layout` list of its files, bottom
/// first (`//! - [`name`]: …`), lists each of its files once, and each file
/// imports only files listed before it.
#[test]
fn a_module_layout_lists_its_files_bottom_first() {
    let files = files();
    let edges = sibling_edges(&files);
    let mut wrong = Vec::new();
    for parent in files.iter().filter(|f| f.path.ends_with("mod.rs")) {
        let text = fs::read_to_string(&parent.path).expect("read a mod.rs");
        let Some(layout) = layout_of(&text) else {
            continue;
        };
        let module = |name: &str| {
            let mut m = parent.module.clone();
            m.push(name.to_string());
            m
        };
        let mut children: Vec<String> = files
            .iter()
            .filter(|f| f.module.len() == parent.module.len() + 1)
            .filter(|f| f.module.starts_with(&parent.module))
            .map(|f| f.module.last().cloned().unwrap_or_default())
            .collect();
        children.sort();
        let mut listed = layout.clone();
        listed.sort();
        if children != listed {
            wrong.push(format!(
                "{}: the layout lists {listed:?}, the files are {children:?}",
                shown(&parent.path)
            ));
        }
        for (at, name) in layout.iter().enumerate() {
            for (to, why) in edges.get(&module(name)).into_iter().flatten() {
                let to = to.last().cloned().unwrap_or_default();
                if !layout[..at].contains(&to) {
                    wrong.push(format!("{why} imports {to}, listed after {name}"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The files a `# Layout` section lists, in order.
fn layout_of(text: &str) -> Option<Vec<String>> {
    let docs: Vec<&str> = text.lines().map_while(|l| l.strip_prefix("//!")).collect();
    let start = docs.iter().position(|l| l.trim() == "# Layout")?;
    let names = docs[start + 1..]
        .iter()
        .take_while(|l| !l.trim().starts_with('#'))
        .filter_map(|l| l.trim().strip_prefix("- [`")?.split_once('`'))
        .map(|(name, _)| name.to_string())
        .collect();
    Some(names)
}

/// A chain of sibling imports from `from` to `to`, if there is one.
fn route(edges: &Edges, from: &[String], to: &[String]) -> Option<Vec<String>> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![(from.to_vec(), vec![from.join("::")])];
    while let Some((at, chain)) = stack.pop() {
        if at == to {
            return Some(chain);
        }
        if !seen.insert(at.clone()) {
            continue;
        }
        for next in edges.get(&at).into_iter().flat_map(|m| m.keys()) {
            let mut longer = chain.clone();
            longer.push(next.join("::"));
            stack.push((next.clone(), longer));
        }
    }
    None
}

#[test]
fn the_reader_sees_every_way_an_import_is_written() {
    let file = File {
        path: PathBuf::from("src/ws/session.rs"),
        module: vec!["ws".into(), "session".into()],
        code: code_of(
            "use crate::{api, ops::{self, Answer}};\n\
             use super::peer::{Peer, Stop};\n\
             // use crate::hidden;\n\
             fn f() { crate::mcp::state(x); not_crate::y(); super::super::app::App::new() }\n\
             #[cfg(test)]\nmod tests {\n use crate::tested;\n}\n",
        ),
    };
    let paths: Vec<Vec<String>> = references(&file).into_iter().map(|r| r.0).collect();
    let p = |s: &str| s.split("::").map(String::from).collect::<Vec<_>>();
    assert_eq!(
        paths,
        vec![p("api"), p("ops"), p("ws::peer"), p("mcp::state"), p("app")]
    );
}

/// No two files define a type (struct, enum, alias or trait) of one name:
/// a name says one thing wherever it is read.
#[test]
fn no_two_files_define_a_type_of_one_name() {
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in files() {
        for line in file.code.lines() {
            let item = ["pub(crate) ", "pub(super) ", "pub "]
                .iter()
                .find_map(|p| line.strip_prefix(p))
                .unwrap_or(line);
            let Some(rest) = ["struct ", "enum ", "type ", "trait "]
                .iter()
                .find_map(|k| item.strip_prefix(k))
            else {
                continue;
            };
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            seen.entry(name).or_default().push(shown(&file.path));
        }
    }
    let twice: Vec<String> = seen
        .into_iter()
        .filter(|(_, places)| places.len() > 1)
        .map(|(name, places)| format!("{name}: {}", places.join(", ")))
        .collect();
    assert!(
        twice.is_empty(),
        "type names defined twice:\n{}",
        twice.join("\n")
    );
}
