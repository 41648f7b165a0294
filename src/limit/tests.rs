use super::*;
use std::net::Ipv4Addr;

fn ip(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(n))
}

fn limiter() -> Limiter {
    Limiter::new(true, 100, Duration::from_secs(60))
}

#[tokio::test(start_paused = true)]
async fn login_allows_five_per_minute_then_says_when() {
    let l = limiter();
    for _ in 0..5 {
        l.check(ip(1), Class::Login).unwrap();
    }
    let err = l.check(ip(1), Class::Login).unwrap_err();
    assert_eq!(err.retry_after_secs(), 12);
    tokio::time::advance(Duration::from_secs(12)).await;
    l.check(ip(1), Class::Login).unwrap();
    assert!(l.check(ip(1), Class::Login).is_err());
}

#[tokio::test(start_paused = true)]
async fn classes_and_clients_are_independent() {
    let l = limiter();
    for _ in 0..10 {
        l.check(ip(1), Class::Action).unwrap();
    }
    assert!(l.check(ip(1), Class::Action).is_err());
    l.check(ip(1), Class::Read).unwrap();
    l.check(ip(2), Class::Action).unwrap();
}

#[tokio::test(start_paused = true)]
async fn overall_bucket_caps_every_class() {
    let l = Limiter::new(true, 3, Duration::from_secs(10));
    for _ in 0..3 {
        l.check(ip(1), Class::Read).unwrap();
    }
    let err = l.check(ip(1), Class::Overall).unwrap_err();
    assert_eq!(err.retry_after_secs(), 4);
    tokio::time::advance(Duration::from_secs(4)).await;
    l.check(ip(1), Class::Overall).unwrap();
}

#[tokio::test(start_paused = true)]
async fn refused_requests_take_no_tokens() {
    let l = Limiter::new(true, 6, Duration::from_secs(60));
    for _ in 0..5 {
        l.check(ip(1), Class::Login).unwrap();
    }
    for _ in 0..20 {
        assert!(l.check(ip(1), Class::Login).is_err());
    }
    // The overall bucket still has the one token the refusals did not take.
    l.check(ip(1), Class::Read).unwrap();
}

#[tokio::test(start_paused = true)]
async fn ipv6_clients_share_their_slash_64() {
    let l = limiter();
    for i in 0..5u16 {
        let addr: IpAddr = format!("2001:db8::{i:x}").parse().unwrap();
        l.check(addr, Class::Login).unwrap();
    }
    assert!(
        l.check("2001:db8::ffff".parse().unwrap(), Class::Login)
            .is_err()
    );
    l.check("2001:db8:0:1::1".parse().unwrap(), Class::Login)
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn memory_stays_bounded_under_a_flood_of_addresses() {
    let l = limiter();
    for n in 0..(MAX_CLIENTS as u32 * 3) {
        l.check(ip(n), Class::Read).unwrap();
        assert!(l.tracked_clients() <= MAX_CLIENTS);
    }
}

#[tokio::test(start_paused = true)]
async fn idle_clients_are_swept() {
    let l = limiter();
    for n in 0..(MIN_SWEEP as u32 - 1) {
        l.check(ip(n), Class::Read).unwrap();
    }
    tokio::time::advance(Duration::from_secs(61)).await;
    l.check(ip(1_000_000), Class::Read).unwrap();
    l.check(ip(1_000_001), Class::Read).unwrap();
    assert_eq!(l.tracked_clients(), 2);
}

#[tokio::test(start_paused = true)]
async fn class_only_checks_leave_the_overall_bucket_alone() {
    let l = Limiter::new(true, 1, Duration::from_secs(60));
    for _ in 0..10 {
        l.check_class(ip(1), Class::Action).unwrap();
    }
    assert!(l.check_class(ip(1), Class::Action).is_err());
    l.check(ip(1), Class::Overall).unwrap();
}

#[tokio::test(start_paused = true)]
async fn wrong_mcp_keys_draw_from_the_login_bucket() {
    let l = limiter();
    for _ in 0..5 {
        l.may_try(ip(1), Attempt::McpKey).unwrap();
        l.failed(ip(1), Attempt::McpKey);
    }
    let err = l.may_try(ip(1), Attempt::McpKey).unwrap_err();
    assert_eq!(err.retry_after_secs(), 12);
    assert!(l.check(ip(1), Class::Login).is_err(), "one budget");
    l.may_try(ip(2), Attempt::McpKey).unwrap();
    tokio::time::advance(Duration::from_secs(12)).await;
    l.may_try(ip(1), Attempt::McpKey).unwrap();
}

#[tokio::test(start_paused = true)]
async fn logins_alone_never_hold_back_an_mcp_client() {
    let l = limiter();
    for _ in 0..5 {
        l.check(ip(1), Class::Login).unwrap();
    }
    l.may_try(ip(1), Attempt::McpKey).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_spent_global_budget_holds_back_recent_failers_only() {
    let l = limiter();
    l.failed(ip(1), Attempt::Password);
    for n in 0..FAILURES_PER_MINUTE {
        l.failed(ip(100 + n), Attempt::Password);
    }
    let err = l.may_try(ip(1), Attempt::Password).unwrap_err();
    assert_eq!(
        err.retry_after_secs(),
        2,
        "until the budget has a failure to spare"
    );
    l.may_try(ip(2), Attempt::Password).unwrap();
    tokio::time::advance(Duration::from_secs(2)).await;
    l.may_try(ip(1), Attempt::Password).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_failure_is_forgotten_after_a_minute() {
    let l = limiter();
    for n in 0..=FAILURES_PER_MINUTE {
        l.failed(ip(n), Attempt::Password);
    }
    for _ in 0..200 {
        l.failed(ip(1000), Attempt::Password);
        tokio::time::advance(Duration::from_millis(300)).await;
    }
    assert!(l.may_try(ip(1000), Attempt::Password).is_err());
    l.may_try(ip(0), Attempt::Password).unwrap();
}

#[tokio::test(start_paused = true)]
async fn disabled_limiter_allows_everything() {
    let l = Limiter::new(false, 1, Duration::from_secs(60));
    for _ in 0..100 {
        l.check(ip(1), Class::Login).unwrap();
        l.failed(ip(1), Attempt::McpKey);
        l.may_try(ip(1), Attempt::McpKey).unwrap();
    }
}
