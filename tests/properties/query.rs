//! Query strings ([`Query`], [`percent_decode`]): arbitrary key/value pairs
//! percent-encoded by the test parse back to the same pairs, repeated names
//! in order with the last one winning; any text percent-encoded decodes back
//! to itself; arbitrary query strings never panic, and typed reads stay in
//! range and report an error exactly when the value is not a valid one.

use crate::json::text;
use crate::percent::{Style, encode, style};
use docker_agent::http::query::{Query, percent_decode};
use docker_agent::input::{Input, Range};
use proptest::prelude::*;
use proptest::sample::select;

/// Query strings rich in separators, escapes and names the test reads.
fn raw_query() -> impl Strategy<Value = String> {
    let piece = select(vec![
        "&", "&", "=", "+", "%", "%2", "%20", "%3D", "%26", "%zz", "%ff", "n", "tail", "1", "-",
        " ", "é", "true",
    ]);
    prop_oneof![
        prop::collection::vec(piece, 0..24).prop_map(|p| p.concat()),
        any::<String>(),
    ]
}

/// `name=value` pairs, encoded; an empty value sometimes without its `=`,
/// and empty parts (`&&`) here and there, which the parser skips.
fn encode_query(pairs: &[(String, String)], style: Style, bare: bool, gaps: bool) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .map(|(k, v)| match (encode(k, style), encode(v, style)) {
            (k, v) if v.is_empty() && bare && !k.is_empty() => k,
            (k, v) => format!("{k}={v}"),
        })
        .collect();
    parts.join(if gaps { "&&" } else { "&" })
}

proptest! {
    #[test]
    fn encoded_pairs_parse_back(
        pairs in prop::collection::vec((text(), text()), 0..8),
        style in style(),
        bare in any::<bool>(),
        gaps in any::<bool>(),
    ) {
        let query = Query::parse(Some(&encode_query(&pairs, style, bare, gaps)));
        for (name, _) in &pairs {
            let values: Vec<&str> =
                pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect();
            prop_assert_eq!(query.all(name), values.clone());
            prop_assert_eq!(query.get(name), values.last().copied());
        }
    }

    #[test]
    fn encoded_text_decodes_to_itself(s in text(), style in style()) {
        prop_assert_eq!(percent_decode(&encode(&s, style), true), s.clone());
        let path_style = Style { plus_for_space: false, ..style };
        prop_assert_eq!(percent_decode(&encode(&s, path_style), false), s);
    }

    #[test]
    fn arbitrary_text_decodes_and_plus_means_a_space(s in prop_oneof![any::<String>(), raw_query()]) {
        let plain: String = s.chars().filter(|c| !matches!(c, '%' | '+')).collect();
        prop_assert_eq!(percent_decode(&plain, true), plain);
        prop_assert_eq!(percent_decode(&s, true), percent_decode(&s.replace('+', "%20"), false));
    }

    #[test]
    fn arbitrary_query_strings_give_integers_in_range(raw in raw_query()) {
        let query = Query::parse(Some(&raw));
        let given = query.get("tail").map(str::to_owned);
        prop_assert_eq!(query.all("tail").last().copied(), given.as_deref());
        let mut input = Input::query(Vec::new(), &query);
        let n = input.int("tail", Range { default: 5, min: 1, max: 100 });
        prop_assert!((1..=100).contains(&n));
        let valid = match given.as_deref().map(|v| v.trim().parse::<i64>()) {
            None => n == 5,
            Some(Ok(v)) => (1..=100).contains(&v) && n == v,
            Some(Err(_)) => false,
        };
        for name in query.names().filter(|n| *n != "tail").collect::<Vec<_>>() {
            input.ignore(name);
        }
        prop_assert_eq!(input.finish().is_ok(), valid, "tail={:?} read as {}", given, n);
    }
}
