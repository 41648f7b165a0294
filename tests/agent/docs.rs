//! The documentation held to the code: every setting the configuration
//! reads is in `docs/configuration.md`'s table and nothing else is; every
//! route the agent serves is in the list at the end of `docs/api.md`, whose
//! link leads to a page that names it, and nothing else is; every relative
//! link of the README and of `docs/` leads to a file, and to a heading, that
//! exist; each page opens with its title and a summary; the README is a
//! short map that links every page.

use crate::util::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The README and every page of `docs/`, as paths from the repository's root.
fn pages() -> Vec<String> {
    let mut pages: Vec<String> = std::fs::read_dir(repo().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    pages.sort();
    pages.insert(0, "README.md".into());
    pages
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of `src/` without its unit tests (which name variables to set
/// them, not to read them): files named `tests.rs` are left out, and a
/// file's `#[cfg(test)] mod tests { … }` with everything after it.
fn source_without_tests() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    rust_files(&repo().join("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|path| path.file_name().is_some_and(|n| n != "tests.rs"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let code = match text.find("#[cfg(test)]\nmod tests {") {
                Some(at) => text[..at].to_string(),
                None => text,
            };
            (path, code)
        })
        .collect()
}

/// Whether `name` is spelt as a setting is: `SECRET_KEY`, `TLS_AUTO_DIR`.
fn is_setting_name(name: &str) -> bool {
    name.len() > 1
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The string literal that `text` opens with (after blanks), if any.
fn leading_literal(text: &str) -> Option<&str> {
    let rest = text.trim_start().strip_prefix('"')?;
    rest.split_once('"').map(|(literal, _)| literal)
}

/// The positions of the identifier `word` in `code` (not inside a longer one).
fn identifier_at(code: &str, word: &str) -> Vec<usize> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    code.match_indices(word)
        .map(|(at, _)| at)
        .filter(|&at| {
            !code[..at].ends_with(is_ident) && !code[at + word.len()..].starts_with(is_ident)
        })
        .collect()
}

/// The names given to a `Vars` map in `code`: a method called on it
/// (`vars.get("X")`, `vars.number::<u16>("X", …)`, across lines too), a
/// helper handed the map and then the name (`role(vars, "X")`), or a
/// closure over it (`let path = |name| vars.get(name)`, then `path("X")`).
fn names_read_through_vars(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    for at in identifier_at(code, "vars") {
        let after = code[at + "vars".len()..].trim_start();
        let name = if let Some(call) = after.strip_prefix('.') {
            let method_end = call
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(call.len());
            let mut args = &call[method_end..];
            if let Some(turbofish) = args.strip_prefix("::<") {
                args = turbofish.split_once('>').map_or("", |(_, rest)| rest);
            }
            args.strip_prefix('(').and_then(leading_literal)
        } else {
            after.strip_prefix(',').and_then(leading_literal)
        };
        names.extend(name.filter(|n| is_setting_name(n)).map(str::to_string));
    }
    for line in code
        .lines()
        .filter(|l| l.contains("= |") && l.contains("vars."))
    {
        let Some(closure) = line
            .trim_start()
            .strip_prefix("let ")
            .and_then(|l| l.split_once(" = |"))
            .map(|(name, _)| name.trim())
        else {
            continue;
        };
        for at in identifier_at(code, closure) {
            let call = code[at + closure.len()..].strip_prefix('(');
            let name = call
                .and_then(leading_literal)
                .filter(|n| is_setting_name(n));
            names.extend(name.map(str::to_string));
        }
    }
    names
}

/// Both names of each secret (`SecretVar { name: "X", file: "X_FILE", … }`),
/// which the secrets module reads from the same map.
fn secret_names(code: &str) -> Vec<String> {
    code.split("SecretVar {")
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(fields, _)| fields))
        .flat_map(|fields| {
            ["name:", "file:"]
                .into_iter()
                .filter_map(|field| {
                    fields
                        .split_once(field)
                        .and_then(|(_, v)| leading_literal(v))
                })
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Every setting the code reads through the configuration's `Vars`.
fn settings_read() -> BTreeSet<String> {
    source_without_tests()
        .iter()
        .flat_map(|(_, code)| {
            let mut names = names_read_through_vars(code);
            names.extend(secret_names(code));
            names
        })
        .collect()
}

#[test]
fn every_setting_the_configuration_reads_is_in_the_table_and_nothing_else_is() {
    let documented = documented_settings();
    let in_table: BTreeSet<String> = documented.iter().cloned().collect();
    assert_eq!(
        in_table.len(),
        documented.len(),
        "a row twice: {documented:?}"
    );
    let read = settings_read();
    let undocumented: Vec<&String> = read.difference(&in_table).collect();
    let unread: Vec<&String> = in_table.difference(&read).collect();
    assert!(
        undocumented.is_empty() && unread.is_empty(),
        "read by src/ but not in docs/configuration.md's table: {undocumented:?}; \
         in the table but read nowhere in src/ (through `vars.<getter>(\"X\"`, a helper \
         given `vars, \"X\"`, a closure over `vars`, or a `SecretVar`): {unread:?}"
    );
}

#[test]
fn variables_the_agent_reads_outside_its_configuration_are_named_on_its_page() {
    let page = doc("docs/configuration.md");
    let mut named = Vec::new();
    for (path, code) in source_without_tests() {
        for call in ["env::var(", "env::var_os("] {
            for (at, _) in code.match_indices(call) {
                if let Some(name) = leading_literal(&code[at + call.len()..]) {
                    named.push((path.clone(), name.to_string()));
                }
            }
        }
    }
    assert!(
        !named.is_empty(),
        "RUST_LOG and NO_COLOR are read by logging"
    );
    for (path, name) in named {
        assert!(
            page.contains(&format!("`{name}`")),
            "{} reads {name}, which docs/configuration.md does not name",
            path.display()
        );
    }
}

/// Every route the agent serves, as `(method, path template)`: its own and
/// the operation catalogue's.
fn served_routes() -> BTreeSet<(String, String)> {
    docker_agent::router::routes()
        .into_iter()
        .map(|(m, p)| (m.into(), p))
        .collect()
}

/// The rows of `docs/api.md`'s "Every route" table: method, path, and the
/// link to the page (and heading) that describes it.
fn listed_routes() -> Vec<(String, String, String)> {
    let page = doc("docs/api.md");
    let (_, section) = page
        .split_once("\n## Every route\n")
        .expect("docs/api.md lists every route");
    let section = section.split("\n## ").next().unwrap();
    section
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .strip_prefix("| ")?
                .strip_suffix(" |")?
                .split(" | ")
                .collect();
            let &[method, path, described] = cells.as_slice() else {
                return None;
            };
            if !method.chars().all(|c| c.is_ascii_uppercase()) || method == "Method" {
                return None;
            }
            let path = path.strip_prefix('`')?.strip_suffix('`')?;
            let link = described.split_once("](")?.1.strip_suffix(')')?;
            Some((method.into(), path.into(), link.into()))
        })
        .collect()
}

/// Whether `text` names `path` as a path: after a backtick or a blank, and
/// followed by a backtick, a query, a blank or a parenthesis.
fn names_path(text: &str, path: &str) -> bool {
    text.match_indices(path).any(|(at, _)| {
        text[..at].ends_with(['`', ' '])
            && text[at + path.len()..].starts_with(['`', '?', ' ', ')'])
    })
}

#[test]
fn every_route_is_on_the_api_page_with_the_page_that_describes_it() {
    let listed = listed_routes();
    let pairs: BTreeSet<(String, String)> = listed
        .iter()
        .map(|(m, p, _)| (m.clone(), p.clone()))
        .collect();
    assert_eq!(pairs.len(), listed.len(), "a route listed twice");
    let served = served_routes();
    let unlisted: Vec<_> = served.difference(&pairs).collect();
    let not_served: Vec<_> = pairs.difference(&served).collect();
    assert!(
        unlisted.is_empty() && not_served.is_empty(),
        "served but not in docs/api.md's \"Every route\": {unlisted:?}; \
         listed there but not served: {not_served:?}"
    );
    for (method, path, link) in listed {
        let (file, _) = link.split_once('#').unwrap_or((&link, ""));
        let target = if file.is_empty() { "api.md" } else { file };
        let text = doc(&format!("docs/{target}"));
        let short = path.strip_prefix("/api/v1");
        assert!(
            names_path(&text, &path) || short.is_some_and(|p| names_path(&text, p)),
            "{method} {path} is described in docs/{target}, which does not name it"
        );
    }
}

/// A heading's anchor as GitHub makes it: lower case, punctuation but `-`
/// and `_` dropped, blanks as `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The lines of `text` outside fenced code blocks.
fn prose(text: &str) -> Vec<&str> {
    let mut fenced = false;
    text.lines()
        .filter(|line| {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
                return false;
            }
            !fenced
        })
        .collect()
}

/// The anchors of `text`'s headings, a repeated one numbered as GitHub
/// numbers it (`x`, `x-1`, `x-2`).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for line in prose(text) {
        let level = line.chars().take_while(|&c| c == '#').count();
        let Some(heading) = line.get(level..).and_then(|h| h.strip_prefix(' ')) else {
            continue;
        };
        if level == 0 || level > 6 {
            continue;
        }
        let base = slug(heading);
        let anchor = (0..)
            .map(|n| {
                if n == 0 {
                    base.clone()
                } else {
                    format!("{base}-{n}")
                }
            })
            .find(|a| !seen.contains(a))
            .unwrap();
        seen.insert(anchor);
    }
    seen
}

/// The targets of `text`'s links and images that lead inside the
/// repository (no scheme), outside code blocks and code spans.
fn relative_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    for line in prose(text) {
        let outside_code: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        for (at, _) in outside_code.match_indices("](") {
            let rest = &outside_code[at + 2..];
            let Some(target) = rest.split_once(')').map(|(t, _)| t) else {
                continue;
            };
            if !target.contains("://") && !target.starts_with("mailto:") {
                links.push(target.to_string());
            }
        }
    }
    links
}

#[test]
fn every_relative_link_leads_to_a_file_and_heading_that_exist() {
    let mut checked = 0;
    for page in pages() {
        let text = doc(&page);
        let dir = Path::new(&page).parent().unwrap();
        for link in relative_links(&text) {
            let (file, anchor) = match link.split_once('#') {
                Some((file, anchor)) => (file, Some(anchor)),
                None => (link.as_str(), None),
            };
            let target = if file.is_empty() {
                PathBuf::from(&page)
            } else {
                dir.join(file)
            };
            let on_disk = repo().join(&target);
            assert!(
                on_disk.exists(),
                "{page}: [{link}]: no file {}",
                target.display()
            );
            if let Some(anchor) = anchor {
                let there = std::fs::read_to_string(&on_disk).unwrap();
                assert!(
                    anchors(&there).contains(anchor),
                    "{page}: [{link}]: {} has no heading #{anchor}",
                    target.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "the links were found: {checked}");
}

#[test]
fn every_page_opens_with_its_title_and_a_one_paragraph_summary() {
    for page in pages().into_iter().filter(|p| p.starts_with("docs/")) {
        let text = doc(&page);
        let mut blocks = text.split("\n\n");
        let title = blocks.next().unwrap();
        assert!(
            title.starts_with("# ") && !title.contains('\n'),
            "{page} opens with its title: {title:?}"
        );
        let summary = blocks.next().unwrap_or_default();
        let opens = summary.chars().next().unwrap_or(' ');
        assert!(
            opens.is_alphanumeric() || opens == '`',
            "{page}: a paragraph of prose follows the title, not {summary:?}"
        );
        assert!(
            summary.len() > 200 && blocks.next().is_some(),
            "{page}: the summary is a paragraph, then the page: {summary:?}"
        );
    }
}

#[test]
fn the_readme_is_a_short_map_that_links_every_page() {
    let readme = doc("README.md");
    let lines = readme.lines().count();
    assert!(
        lines < 400,
        "README.md is a map, not the reference: {lines} lines"
    );
    let links = relative_links(&readme);
    for page in pages().into_iter().filter(|p| p.starts_with("docs/")) {
        assert!(
            links.iter().any(|l| l == &page),
            "README.md's map links {page}"
        );
    }
    // Early: before the quick start, in the first screen a reader sees.
    let early: String = readme.lines().take(40).collect::<Vec<_>>().join("\n");
    assert!(
        early.contains("`http://HOST:PORT/`") && early.contains("`http://HOST:PORT/metrics`"),
        "README.md names the dashboard's and the metrics' addresses early: {early}"
    );
}
