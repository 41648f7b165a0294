//! The signals `kill` accepts, as Docker parses them: a name with or
//! without `SIG`, in any case (`SIGKILL`, `kill`, `HUP`), or a number from
//! 1 to 64. Checked here so a bad signal is a 422 naming it, not Docker's 500.

/// Signal names Linux and Docker know, without `SIG`.
const NAMES: [&str; 31] = [
    "ABRT", "ALRM", "BUS", "CHLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "KILL", "PIPE",
    "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP", "TTIN", "TTOU",
    "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ",
];

/// The signal kill sends when none is named.
pub const DEFAULT_SIGNAL: &str = "SIGKILL";

/// `raw` as Docker is sent it (`SIGHUP`, or the number), or why not.
pub fn signal(raw: &str) -> Result<String, &'static str> {
    let raw = raw.trim();
    if let Ok(n) = raw.parse::<u8>() {
        if (1..=64).contains(&n) {
            return Ok(n.to_string());
        }
    }
    let upper = raw.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if NAMES.contains(&name) {
        return Ok(format!("SIG{name}"));
    }
    Err("Input should be a signal name such as SIGKILL, KILL or SIGHUP, or a number from 1 to 64")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_are_accepted_as_docker_does() {
        for (raw, sent) in [
            ("SIGKILL", "SIGKILL"),
            ("KILL", "SIGKILL"),
            ("kill", "SIGKILL"),
            ("sigHup", "SIGHUP"),
            (" TERM ", "SIGTERM"),
            ("9", "9"),
            ("64", "64"),
        ] {
            assert_eq!(signal(raw).unwrap(), sent, "{raw}");
        }
    }

    #[test]
    fn anything_else_is_refused_saying_what_a_signal_is() {
        for raw in [
            "", "0", "65", "-9", "SIG", "SIGNOPE", "KILL;rm", "9.0", "SIGKILL2",
        ] {
            let why = signal(raw).unwrap_err();
            assert!(why.contains("a signal name such as SIGKILL"), "{raw}");
        }
    }
}
