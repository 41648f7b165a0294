//! `IMAGE_ALLOW`: the images that may be created (and pulled), as
//! comma-separated globs over image references; empty allows every image.
//!
//! A reference without a tag or digest is matched with `:latest` added, as
//! Docker reads it (`alpine` is `alpine:latest`); otherwise it is matched
//! as written: `alpine:*` allows `alpine` and `alpine:3.20` but not
//! `docker.io/library/alpine:3.20` nor an image id — an allow-list that
//! does not recognise a spelling refuses it. `*` matches any run of
//! characters, `/` included; `?` one character.

use super::scope::glob;
use crate::error::{Error, clip};

#[derive(Debug, Clone, Default)]
pub struct ImageAllow {
    pub globs: Vec<String>,
}

/// An `IMAGE_ALLOW` entry: the characters of an image reference plus `*` and `?`.
pub fn check_glob(pattern: &str) -> Result<(), String> {
    let ok = pattern
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_.-/:@*?".contains(&b));
    if ok && !pattern.is_empty() && pattern.len() <= 512 {
        Ok(())
    } else {
        Err(format!(
            "{pattern:?} is not an image pattern: use the characters of image references \
             (letters, digits, '_', '.', '-', '/', ':', '@') and '*' or '?' as wildcards"
        ))
    }
}

/// `reference` as Docker reads it: `:latest` added when it has no tag or digest.
pub fn with_tag(reference: &str) -> String {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    if last.contains(':') || reference.contains('@') {
        reference.to_string()
    } else {
        format!("{reference}:latest")
    }
}

impl ImageAllow {
    /// Whether `image` may be used; 403 naming it and the setting if not.
    pub fn check(&self, image: &str) -> Result<(), Error> {
        let full = with_tag(image);
        if self.globs.is_empty() || self.globs.iter().any(|g| glob(g, &full)) {
            return Ok(());
        }
        Err(Error::Denied(format!(
            "The image '{}' is not allowed by IMAGE_ALLOW ({})",
            clip(image, 256),
            self.globs.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(globs: &[&str]) -> ImageAllow {
        ImageAllow {
            globs: globs.iter().map(|g| g.to_string()).collect(),
        }
    }

    #[test]
    fn references_get_latest_when_they_have_no_tag_or_digest() {
        assert_eq!(with_tag("alpine"), "alpine:latest");
        assert_eq!(with_tag("alpine:3"), "alpine:3");
        assert_eq!(
            with_tag("registry.local:5000/app"),
            "registry.local:5000/app:latest"
        );
        assert_eq!(
            with_tag("registry.local:5000/app:1"),
            "registry.local:5000/app:1"
        );
        assert_eq!(with_tag("app@sha256:ab"), "app@sha256:ab");
    }

    #[test]
    fn only_matching_images_are_allowed() {
        let a = allow(&["registry.local:5000/*", "alpine:*"]);
        for ok in [
            "alpine",
            "alpine:3.20",
            "registry.local:5000/team/app:1",
            "registry.local:5000/app",
        ] {
            assert!(a.check(ok).is_ok(), "{ok}");
        }
        for bad in [
            "nginx",
            "docker.io/library/alpine:3",
            "sha256:0123",
            "registry.local:5001/app",
            "evil/alpine:1",
        ] {
            let e = a.check(bad).unwrap_err();
            assert_eq!(e.status(), 403, "{bad}");
            assert!(
                e.message().contains(bad) && e.message().contains("IMAGE_ALLOW"),
                "{}",
                e.message()
            );
        }
        assert!(
            allow(&[]).check("anything:1").is_ok(),
            "empty allows everything"
        );
    }

    #[test]
    fn patterns_are_checked() {
        assert!(check_glob("registry.local:5000/*").is_ok());
        for bad in ["", "a b", "alpine[0-9]", "é"] {
            assert!(check_glob(bad).is_err(), "{bad}");
        }
    }
}
