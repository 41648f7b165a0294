//! Reading a small text file the operator names (a secret file, the tokens
//! file, a `.env`): bounded in size and refused unless UTF-8, with an error
//! that says why in the OS's words or the limit's.

use std::io::Read;
use std::path::Path;

/// The text of the file at `path`, refused past `max` bytes or when it is
/// not UTF-8; the error says why (what the OS said, or the limit).
pub fn read_text(path: &Path, max: u64) -> Result<String, String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(max + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max {
        return Err(format!("larger than {max} bytes"));
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".into())
}
