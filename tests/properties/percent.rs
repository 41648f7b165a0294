//! A percent-encoder written from RFC 3986, independent of the crate's
//! decoder: every byte outside the unreserved set is escaped, and the
//! unreserved ones optionally too, in upper- or lower-case hex.

use proptest::prelude::*;

#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Escape letters, digits and `-._~` as well.
    pub escape_all: bool,
    pub lower_hex: bool,
    /// Write a space as `+` (query strings).
    pub plus_for_space: bool,
}

pub fn style() -> impl Strategy<Value = Style> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(escape_all, lower_hex, plus)| Style {
        escape_all,
        lower_hex,
        plus_for_space: plus,
    })
}

pub fn encode(s: &str, style: Style) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        let unreserved = b.is_ascii_alphanumeric() || b"-._~".contains(&b);
        if unreserved && !style.escape_all {
            out.push(char::from(b));
        } else if b == b' ' && style.plus_for_space {
            out.push('+');
        } else if style.lower_hex {
            out.push_str(&format!("%{b:02x}"));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
