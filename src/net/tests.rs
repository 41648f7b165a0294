use super::*;

#[test]
fn host_names_and_loopback() {
    assert_eq!(host_name("localhost:9000"), "localhost");
    assert_eq!(host_name("[::1]:9000"), "::1");
    assert_eq!(host_name("127.0.0.1"), "127.0.0.1");
    for host in ["localhost", "127.0.0.1", "::1", "[::1]", "127.8.9.1"] {
        assert!(is_loopback(host), "{host}");
    }
    for host in ["evil.example", "0.0.0.0", "10.0.0.1", "::"] {
        assert!(!is_loopback(host), "{host}");
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn cidr_parsing_and_matching() {
    let net = Cidr::parse("10.1.0.0/16").unwrap();
    assert!(net.contains(ip("10.1.200.3")));
    assert!(!net.contains(ip("10.2.0.1")));
    assert!(net.contains(ip("::ffff:10.1.0.9")));
    assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
    assert!(Cidr::parse("fd00::/8").unwrap().contains(ip("fd12::1")));
    assert!(Cidr::parse("127.0.0.1").unwrap().contains(ip("127.0.0.1")));
    assert!(
        Cidr::parse("::ffff:10.0.0.1")
            .unwrap()
            .contains(ip("10.0.0.1"))
    );
    assert!(
        Cidr::parse("::ffff:10.0.0.0/104")
            .unwrap()
            .contains(ip("::ffff:10.9.9.9"))
    );
    for bad in ["", "10.0.0.0/33", "::/129", "nope", "10.0.0.0/x"] {
        assert_eq!(Cidr::parse(bad), None, "{bad}");
    }
}

#[test]
fn clients_are_keyed_by_address_or_ipv6_slash_64() {
    assert_eq!(client_key(ip("10.1.2.3")), ip("10.1.2.3"));
    assert_eq!(client_key(ip("::ffff:10.1.2.3")), ip("10.1.2.3"));
    assert_eq!(client_key(ip("2001:db8:0:1:aa::9")), ip("2001:db8:0:1::"));
    assert_ne!(client_key(ip("2001:db8:0:2::1")), ip("2001:db8:0:1::"));
}

fn forwarded(lines: &[&[u8]]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for line in lines {
        h.append(
            FORWARDED_FOR,
            hyper::header::HeaderValue::from_bytes(line).unwrap(),
        );
    }
    h
}

#[test]
fn forwarded_for_is_ignored_from_untrusted_peers() {
    let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
    assert_eq!(
        client_ip(ip("1.2.3.4"), &forwarded(&[b"5.6.7.8"]), &trusted),
        ip("1.2.3.4")
    );
}

#[test]
fn forwarded_for_is_walked_from_the_right_past_trusted_hops() {
    let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
    let h = forwarded(&[b"6.6.6.6, 5.6.7.8, 10.0.0.9"]);
    assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("5.6.7.8"));
    let lines = forwarded(&[b"6.6.6.6", b"5.6.7.8, 10.0.0.9"]);
    assert_eq!(client_ip(ip("10.0.0.2"), &lines, &trusted), ip("5.6.7.8"));
    assert_eq!(
        client_ip(ip("10.0.0.2"), &HeaderMap::new(), &trusted),
        ip("10.0.0.2")
    );
}

#[test]
fn malformed_forwarded_entries_stop_the_walk() {
    let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
    let h = forwarded(&[b"1.1.1.1, garbage"]);
    assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("10.0.0.2"));
    let h = forwarded(&[b"1.1.1.1, \xff\xfe, 10.0.0.7"]);
    assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("10.0.0.7"));
}

#[test]
fn bytes_that_are_not_text_cannot_hide_the_appended_entry() {
    let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
    let h = forwarded(&[b"\xff\xfe, 203.0.113.7"]);
    assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("203.0.113.7"));
    let h = forwarded(&[b"\xff\xfe", b"203.0.113.7"]);
    assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("203.0.113.7"));
}
