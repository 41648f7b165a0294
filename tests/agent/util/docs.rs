//! The documentation as the tests read it: a page of the README or of
//! `docs/`, a fenced block of one (a recipe run as a reader would run it),
//! and the settings table of `docs/configuration.md`.

use std::path::Path;

/// The text of `page`, a path from the repository's root (`README.md`,
/// `docs/tls.md`), read where the repository keeps it.
pub fn doc(page: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(page);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The first fenced block of `page` in `lang` (`bash`, `python`) that
/// contains `needle`: a recipe a test runs as a reader would.
pub fn doc_block(page: &str, lang: &str, needle: &str) -> String {
    doc(page)
        .split(&format!("```{lang}\n"))
        .skip(1)
        .filter_map(|rest| rest.split_once("```").map(|(code, _)| code))
        .find(|code| code.contains(needle))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("{page} has a {lang} block with {needle:?}"))
}

/// The settings of `docs/configuration.md`'s table (`| Variable | Default |
/// Meaning |`), each row's first name, in the table's order.
pub fn documented_settings() -> Vec<String> {
    let page = doc("docs/configuration.md");
    let (_, table) = page
        .split_once("| Variable | Default | Meaning |\n")
        .expect("docs/configuration.md has the settings table");
    table
        .lines()
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| l.strip_prefix("| `")?.split('`').next())
        .map(str::to_string)
        .collect()
}

/// The loop of `docs/fleet.md`'s certificate recipe, over the agents it
/// issues certificates for.
pub const FLEET_RECIPE_LOOP: &str = "for agent in node-a node-b node-c; do";

/// `docs/fleet.md`'s certificate recipe run with `bash -e` in `dir`, as a
/// reader runs it, its loop over `agents` (as the page says to change it):
/// the directory `fleet/` it writes, with `ca.pem`, `ca.key` and
/// `NAME.pem`, `NAME.key` for each agent.
pub fn issue_fleet_certificates(dir: &Path, agents: &[&str]) -> std::path::PathBuf {
    let recipe = doc_block("docs/fleet.md", "bash", "openssl genpkey");
    assert!(recipe.contains(FLEET_RECIPE_LOOP), "{recipe}");
    let script = recipe.replace(
        FLEET_RECIPE_LOOP,
        &format!("for agent in {}; do", agents.join(" ")),
    );
    let (ok, said) = super::run_said(
        std::process::Command::new("bash")
            .args(["-ec", &script])
            .current_dir(dir),
    );
    assert!(ok, "the recipe failed: {said}");
    dir.join("fleet")
}
