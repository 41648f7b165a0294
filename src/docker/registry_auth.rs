//! Registry credentials for a pull, as Docker takes them: the JSON of
//! `{username, password}` or `{identitytoken}` (and `serveraddress`),
//! base64url-encoded with padding (Engine 20.10 reads nothing else), in the
//! `X-Registry-Auth` header. They live only as long as the request: nothing
//! logs them, and their `Debug` shows no value.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;
use serde::Serialize;
use std::fmt;

/// The `X-Registry-Auth` header.
pub const HEADER: &str = "X-Registry-Auth";

#[derive(Clone, Default, PartialEq, Eq, Serialize)]
pub struct RegistryAuth {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identitytoken: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serveraddress: Option<String>,
}

impl RegistryAuth {
    /// The header's value.
    pub fn encode(&self) -> String {
        // Serialising strings into JSON cannot fail.
        URL_SAFE.encode(serde_json::to_vec(self).unwrap_or_default())
    }
}

impl fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RegistryAuth { .. }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_padded_base64url_json_and_debug_hides_it() {
        let auth = RegistryAuth {
            username: Some("ci".into()),
            password: Some("s3cr?t>".into()),
            ..RegistryAuth::default()
        };
        let header = auth.encode();
        assert!(!header.contains(['+', '/']), "{header}");
        let json = URL_SAFE.decode(&header).unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&json).unwrap(),
            serde_json::json!({"username": "ci", "password": "s3cr?t>"})
        );
        assert_eq!(format!("{auth:?}"), "RegistryAuth { .. }");
    }
}
