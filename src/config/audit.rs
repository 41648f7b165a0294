//! `AUDIT_LOG`: the file the audit trail is also appended to. It is opened
//! here, once, at start: created with mode 0600 if missing, always in
//! append mode, so a path that cannot be written stops the start instead of
//! losing records later. What goes into it is [`crate::audit`]'s business.

use super::{ConfigError, Vars};
use crate::audit::AuditLog;
use std::fs::OpenOptions;
use std::io::ErrorKind;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::Arc;

/// Opens `AUDIT_LOG` when set.
pub fn section(vars: &Vars) -> Result<Option<AuditLog>, ConfigError> {
    let Some(path) = vars.get("AUDIT_LOG").map(PathBuf::from) else {
        return Ok(None);
    };
    let opened = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(&path)
        .and_then(|file| Ok((file.metadata()?.permissions().mode(), file)));
    match opened {
        Ok((mode, file)) => Ok(Some(AuditLog {
            path,
            file: Arc::new(file),
            mode: mode & 0o777,
        })),
        Err(e) => {
            let why = if e.kind() == ErrorKind::NotFound {
                "its directory does not exist; create it or choose another path".into()
            } else {
                format!("cannot open it for appending: {e}")
            };
            let message = format!("{}: {why}", path.display());
            Err(ConfigError::new("AUDIT_LOG", message))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn temp_dir() -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("docker-agent-audit-{}", crate::random::token(8)));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn open(path: &Path) -> Result<Option<AuditLog>, ConfigError> {
        section(&Vars::from_pairs([("AUDIT_LOG", path.to_str().unwrap())]))
    }

    #[test]
    fn unset_means_no_file() {
        assert!(section(&Vars::default()).unwrap().is_none());
    }

    #[test]
    fn a_new_file_is_private_and_an_old_one_is_appended_to() {
        let dir = temp_dir();
        let path = dir.join("audit.log");
        let log = open(&path).unwrap().unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(log.loose_mode(), None);
        use std::io::Write;
        (&*log.file).write_all(b"first\n").unwrap();
        let again = open(&path).unwrap().unwrap();
        (&*again.file).write_all(b"second\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first\nsecond\n");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_file_others_can_read_is_flagged() {
        let dir = temp_dir();
        let path = dir.join("audit.log");
        std::fs::write(&path, "").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(open(&path).unwrap().unwrap().loose_mode(), Some(0o644));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_path_that_cannot_be_a_log_names_the_variable() {
        let dir = temp_dir();
        let missing = dir.join("no-such-dir").join("audit.log");
        let err = open(&missing).unwrap_err();
        assert_eq!(err.var, "AUDIT_LOG");
        assert!(err.message.contains("does not exist"), "{err}");
        let err = open(&dir).unwrap_err();
        assert_eq!(err.var, "AUDIT_LOG");
        assert!(err.message.contains("cannot open"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
