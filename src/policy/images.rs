//! Image references and `IMAGE_ALLOW`: what a reference is, its normal
//! form, and whether a list of globs allows it.
//!
//! A reference is `[registry/]path[:tag]` or `[registry/]path@sha256:…`,
//! as Docker reads it. Its normal form spells out what Docker fills in: the
//! registry (`docker.io` unless the first of several components has a `.`
//! or a `:` or is `localhost`) and Docker Hub's `library/` namespace for
//! official images — `alpine:3.20` is `docker.io/library/alpine:3.20`.
//!
//! An `IMAGE_ALLOW` glob is read the same way (`*` any run of characters,
//! `/` included, `?` one character) and matched against the normal form:
//! `alpine` means the official image, `library/*` every official image,
//! `acme/*` the `acme` namespace on Docker Hub, `*` or `docker.io/*` all of
//! Docker Hub (`library/` is added only to a lone name without wildcards),
//! `ghcr.io/acme/*` everything under `ghcr.io/acme/`. A glob without a tag or
//! digest allows every tag and digest of what it matches (`alpine` allows
//! `alpine:3.20` and `alpine@sha256:…`, not `alpine-extra` or
//! `acme/alpine`); one with a tag allows just those (`alpine:3.*`). An
//! empty list allows every image.

use super::scope::glob;
use std::fmt;

/// Longest repository name Docker accepts.
const MAX_NAME: usize = 255;
/// Longest tag Docker accepts.
const MAX_TAG: usize = 128;

/// What follows the repository: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin {
    Tag(String),
    Digest(String),
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pin::Tag(t) => write!(f, ":{t}"),
            Pin::Digest(d) => write!(f, "@{d}"),
        }
    }
}

/// A checked image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The repository as written (`alpine`, `127.0.0.1:5000/team/app`).
    pub name: String,
    /// The repository in normal form (`docker.io/library/alpine`).
    pub repository: String,
    pub pin: Option<Pin>,
}

/// The reference as written, with its tag or digest (`alpine:latest`).
impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        match &self.pin {
            Some(pin) => write!(f, "{pin}"),
            None => Ok(()),
        }
    }
}

impl Reference {
    /// Checks `s` and finds its normal form; the error says what is wrong.
    pub fn parse(s: &str) -> Result<Reference, String> {
        let (name, pin) = split_pin(s);
        let pin = match pin {
            None => None,
            Some(p) => Some(pin_of(p)?),
        };
        check_name(name)?;
        Ok(Reference {
            name: name.to_string(),
            repository: normal_name(name),
            pin,
        })
    }

    /// The reference pinned to `tag` when it has no tag or digest of its
    /// own (`latest` when neither says), or an error when the two disagree.
    pub fn tagged(mut self, tag: Option<&str>) -> Result<Reference, String> {
        match (&self.pin, tag) {
            (_, Some(t)) if !is_tag(t) => return Err(format!("{t:?} is not a tag: {TAG_RULE}")),
            (Some(Pin::Tag(own)), Some(t)) if own != t => {
                return Err(format!(
                    "the image names the tag {own:?} and the tag field {t:?}"
                ));
            }
            (Some(Pin::Digest(_)), Some(_)) => {
                return Err("the image names a digest: leave the tag out".into());
            }
            (None, t) => self.pin = Some(Pin::Tag(t.unwrap_or("latest").to_string())),
            _ => {}
        }
        Ok(self)
    }

    /// The normal form: `docker.io/library/alpine:latest`.
    pub fn normal(&self) -> String {
        match &self.pin {
            Some(pin) => format!("{}{pin}", self.repository),
            None => self.repository.clone(),
        }
    }
}

const TAG_RULE: &str = "up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'";

/// `name` and what follows it: the part after `@`, or after the last `:`
/// that comes after the last `/` (a `:` before it is a registry's port).
fn split_pin(s: &str) -> (&str, Option<&str>) {
    if let Some(at) = s.find('@') {
        return (&s[..at], Some(&s[at..]));
    }
    let slash = s.rfind('/').map_or(0, |i| i + 1);
    match s[slash..].rfind(':') {
        Some(colon) => (&s[..slash + colon], Some(&s[slash + colon..])),
        None => (s, None),
    }
}

fn pin_of(p: &str) -> Result<Pin, String> {
    if let Some(digest) = p.strip_prefix('@') {
        let hex = digest.strip_prefix("sha256:").unwrap_or("");
        return if hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Pin::Digest(digest.to_string()))
        } else {
            Err(format!(
                "{digest:?} is not a digest: use sha256: and 64 lowercase hex digits"
            ))
        };
    }
    let tag = &p[1..];
    if is_tag(tag) {
        Ok(Pin::Tag(tag.to_string()))
    } else {
        Err(format!("{tag:?} is not a tag: {TAG_RULE}"))
    }
}

fn is_tag(t: &str) -> bool {
    let mut bytes = t.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        && t.len() <= MAX_TAG
}

/// Whether the first component names a registry (Docker's rule).
fn is_registry(first: &str) -> bool {
    first.contains(['.', ':']) || first == "localhost"
}

fn check_name(name: &str) -> Result<(), String> {
    let bad = || {
        Err(format!(
            "{name:?} is not an image name: use [registry[:port]/]path, the path in lowercase \
             letters, digits and '.', '_', '-' between them, components joined by '/'"
        ))
    };
    let mut parts: Vec<&str> = name.split('/').collect();
    if name.len() > MAX_NAME {
        return bad();
    }
    if parts.len() > 1 && is_registry(parts[0]) {
        let host = parts.remove(0);
        let (h, port) = host.split_once(':').unwrap_or((host, "1"));
        let host_ok = !h.is_empty()
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'));
        if !host_ok || port.parse::<u16>().is_err() {
            return bad();
        }
    }
    let component = |c: &&str| {
        let b = c.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|&x| {
                x.is_ascii_lowercase() || x.is_ascii_digit() || matches!(x, b'.' | b'_' | b'-')
            })
    };
    if parts.iter().all(component) {
        Ok(())
    } else {
        bad()
    }
}

/// The repository `name` (or a glob of one) in normal form. Docker Hub's
/// `library/` is added to a lone component only when it holds no wildcard,
/// so `*` and `docker.io/*` mean all of Docker Hub.
fn normal_name(name: &str) -> String {
    let (registry, path) = match name.split_once('/') {
        Some((first, rest)) if is_registry(first) => (first, rest),
        _ => ("docker.io", name),
    };
    let registry = if registry == "index.docker.io" {
        "docker.io"
    } else {
        registry
    };
    if registry == "docker.io" && !path.contains(['/', '*', '?']) {
        format!("docker.io/library/{path}")
    } else {
        format!("{registry}/{path}")
    }
}

/// A glob as `IMAGE_ALLOW` accepts it: the characters of a reference plus
/// `*` and `?`.
pub fn check_glob(pattern: &str) -> Result<(), String> {
    let ok = pattern.bytes().all(|b| {
        b.is_ascii_alphanumeric()
            || matches!(b, b'_' | b'.' | b'-' | b'/' | b':' | b'@' | b'*' | b'?')
    });
    if ok && !pattern.is_empty() && pattern.len() <= 512 {
        Ok(())
    } else {
        Err(format!(
            "{pattern:?} is not an image pattern: use the characters of an image reference, \
             and '*' or '?' as wildcards"
        ))
    }
}

/// Whether `globs` allow the image `reference`, `latest` when it names no
/// tag (an empty list allows all; a reference that does not parse is never
/// allowed).
pub fn allowed(globs: &[String], reference: &str) -> bool {
    match Reference::parse(reference).and_then(|r| r.tagged(None)) {
        Ok(r) => globs.is_empty() || globs.iter().any(|g| permits(g, &r)),
        Err(_) => false,
    }
}

fn permits(pattern: &str, r: &Reference) -> bool {
    let (name, pin) = split_pin(pattern);
    let pinned = r.pin.as_ref().map(ToString::to_string).unwrap_or_default();
    glob(&normal_name(name), &r.repository) && pin.is_none_or(|p| glob(p, &pinned))
}

#[cfg(test)]
mod tests;
