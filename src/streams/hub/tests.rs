//! The hub's rules on their own: sharing, replay, pacing by the fastest
//! subscriber, moving a lagging one to its own upstream at its position,
//! latest-sample overflow, and ending.

use super::*;
use tokio::sync::oneshot;

type Key = &'static str;
/// Each upstream start: the position it was asked to resume after, and its publisher.
type Starts = Arc<Mutex<Vec<(Option<Position>, Option<Publisher<Key>>)>>>;

const SMALL: Limits = Limits {
    messages: 4,
    bytes: 1 << 20,
    overflow: Overflow::Resume,
};

fn starter(started: &Starts) -> Starter<Key> {
    let started = started.clone();
    Arc::new(move |p, from| {
        lock(&started).push((from, Some(p)));
        let (_tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = rx.await;
        })
        .abort_handle()
    })
}

fn join(
    hub: &Arc<Hub<Key>>,
    key: Key,
    limits: Limits,
    replay: usize,
    s: &Starts,
) -> Subscription<Key> {
    hub.subscribe(key, limits, replay, starter(s))
}

fn publisher(s: &Starts, n: usize) -> Publisher<Key> {
    lock(s)[n].1.take().expect("publisher taken once")
}

fn at(n: u64) -> Option<Position> {
    Some(Position {
        after: Some(crate::docker::resume::EntryId { nanos: n, nth: 1 }),
        skip: 0,
    })
}

fn items(range: std::ops::Range<u64>) -> Vec<Item> {
    range.map(|i| Item::new(format!("m{i}"), at(i))).collect()
}

async fn texts(sub: &mut Subscription<Key>, n: usize) -> Vec<String> {
    let mut got = Vec::new();
    while got.len() < n {
        match sub.next(n - got.len()).await {
            Next::Messages(batch) => got.extend(batch.iter().map(|m| m.to_string())),
            Next::Closed(c) => panic!("closed early: {c:?}"),
        }
    }
    got
}

fn names(range: std::ops::Range<u64>) -> Vec<String> {
    range.map(|i| format!("m{i}")).collect()
}

#[tokio::test]
async fn subscribers_share_one_upstream_per_key() {
    let (hub, s) = (Hub::new(), Starts::default());
    let mut subs: Vec<_> = (0..50).map(|_| join(&hub, "a", SMALL, 0, &s)).collect();
    let _other = join(&hub, "b", SMALL, 0, &s);
    assert_eq!(lock(&s).len(), 2);
    assert_eq!(hub.upstream_count(), 2);
    assert_eq!(publisher(&s, 0).publish(items(0..1)).await, 50);
    for sub in &mut subs {
        assert_eq!(texts(sub, 1).await, ["m0"]);
    }
}

#[tokio::test]
async fn last_subscriber_leaving_stops_the_upstream() {
    let (hub, s) = (Hub::new(), Starts::default());
    let a = join(&hub, "k", SMALL, 0, &s);
    let b = join(&hub, "k", SMALL, 0, &s);
    drop(a);
    assert_eq!(hub.topic_count(), 1);
    drop(b);
    assert_eq!(hub.topic_count(), 0);
    let _c = join(&hub, "k", SMALL, 0, &s);
    assert_eq!(lock(&s).len(), 2, "a fresh upstream after everyone left");
}

#[tokio::test]
async fn late_joiners_get_the_replay() {
    let (hub, s) = (Hub::new(), Starts::default());
    let _first = join(&hub, "k", SMALL, 2, &s);
    let p = publisher(&s, 0);
    p.publish(items(0..3)).await;
    let mut late = join(&hub, "k", SMALL, 2, &s);
    assert_eq!(texts(&mut late, 2).await, names(1..3));
    p.publish(items(3..4)).await;
    assert_eq!(texts(&mut late, 1).await, ["m3"]);
}

#[tokio::test]
async fn a_lagging_subscriber_moves_to_its_own_upstream_at_its_position() {
    let (hub, s) = (Hub::new(), Starts::default());
    let mut fast = join(&hub, "k", SMALL, 0, &s);
    let mut slow = join(&hub, "k", SMALL, 0, &s);
    let p = publisher(&s, 0);
    for i in 0..10 {
        assert!(p.publish(items(i..i + 1)).await >= 1);
        assert_eq!(texts(&mut fast, 1).await, [format!("m{i}")]);
    }
    // The slow one's queue took m0..m3, then it moved, resuming after m3.
    assert_eq!(lock(&s).len(), 2);
    assert_eq!(lock(&s)[1].0, at(3));
    assert_eq!(hub.upstream_count(), 2);
    assert_eq!(texts(&mut slow, 4).await, names(0..4));
    let own = publisher(&s, 1);
    own.publish(items(4..6)).await;
    assert_eq!(texts(&mut slow, 2).await, names(4..6));
    assert_eq!(
        p.publish(items(10..11)).await,
        1,
        "only the fast one is left here"
    );
}

#[tokio::test]
async fn when_every_queue_is_full_the_upstream_waits_for_the_fastest() {
    let (hub, s) = (Hub::new(), Starts::default());
    let mut a = join(&hub, "k", SMALL, 0, &s);
    let mut b = join(&hub, "k", SMALL, 0, &s);
    let p = publisher(&s, 0);
    p.publish(items(0..4)).await;
    let blocked = tokio::spawn(async move {
        p.publish(items(4..6)).await;
        p
    });
    tokio::task::yield_now().await;
    assert!(
        !blocked.is_finished(),
        "no room anywhere: the upstream waits"
    );
    assert_eq!(texts(&mut a, 4).await, names(0..4));
    let p = blocked.await.unwrap();
    assert_eq!(texts(&mut a, 2).await, names(4..6));
    assert_eq!(lock(&s).len(), 2, "b fell a queue behind and moved");
    assert_eq!(texts(&mut b, 4).await, names(0..4));
    drop(p);
}

#[tokio::test]
async fn a_lone_subscriber_paces_its_upstream_and_loses_nothing() {
    let (hub, s) = (Hub::new(), Starts::default());
    let mut only = join(&hub, "k", SMALL, 0, &s);
    let p = publisher(&s, 0);
    let writer = tokio::spawn(async move {
        for i in 0..1000 {
            p.publish(items(i..i + 1)).await;
        }
    });
    assert_eq!(texts(&mut only, 1000).await, names(0..1000));
    writer.await.unwrap();
    assert_eq!(lock(&s).len(), 1, "never moved: one upstream");
}

#[tokio::test]
async fn samples_keep_only_the_latest_for_a_slow_reader() {
    let (hub, s) = (Hub::new(), Starts::default());
    let latest = Limits {
        messages: 1,
        bytes: 1 << 20,
        overflow: Overflow::Latest,
    };
    let mut slow = join(&hub, "k", latest, 1, &s);
    let p = publisher(&s, 0);
    for i in 0..5 {
        p.publish(vec![Item::new(format!("m{i}"), None)]).await;
    }
    assert_eq!(texts(&mut slow, 1).await, ["m4"]);
    assert_eq!(lock(&s).len(), 1);
}

#[tokio::test]
async fn a_joiner_whose_replay_lost_history_gets_its_own_upstream() {
    let (hub, s) = (Hub::new(), Starts::default());
    let roomy = Limits {
        bytes: 4 << 20,
        ..SMALL
    };
    let _first = join(&hub, "k", roomy, usize::MAX, &s);
    let p = publisher(&s, 0);
    let big = "x".repeat(REPLAY_BYTES / 2 + 1);
    for _ in 0..3 {
        p.publish(vec![Item::new(big.clone(), at(1))]).await;
    }
    let _late = join(&hub, "k", roomy, usize::MAX, &s);
    assert_eq!(lock(&s).len(), 2);
    assert_eq!(lock(&s)[1].0, None, "from the start, as first asked");
}

#[tokio::test]
async fn queues_count_encoded_bytes_and_are_emptied_on_leave() {
    let (hub, s) = (Hub::new(), Starts::default());
    let sub = join(&hub, "k", SMALL, 0, &s);
    publisher(&s, 0).publish(items(0..2)).await;
    assert_eq!(hub.queued_bytes(), 2 * (2 + 2));
    drop(sub);
    assert_eq!(hub.queued_bytes(), 0);
}

#[tokio::test]
async fn ending_a_topic_closes_subscribers_after_their_queue() {
    let (hub, s) = (Hub::new(), Starts::default());
    let mut sub = join(&hub, "k", SMALL, 0, &s);
    let p = publisher(&s, 0);
    p.publish(vec![Item::new("last words", None)]).await;
    p.end(Close::new(1000, "Container stopped"));
    assert_eq!(texts(&mut sub, 1).await, ["last words"]);
    assert_eq!(
        sub.next(10).await,
        Next::Closed(Close::new(1000, "Container stopped"))
    );
    assert_eq!(hub.topic_count(), 0);
    let _fresh = join(&hub, "k", SMALL, 0, &s);
    assert_eq!(lock(&s).len(), 2);
}

#[tokio::test]
async fn a_moved_subscriber_that_catches_up_rejoins_the_shared_upstream() {
    let (hub, s) = (Hub::new(), Starts::default());
    let mut fast = join(&hub, "k", SMALL, 0, &s);
    let mut slow = join(&hub, "k", SMALL, 0, &s);
    let p = publisher(&s, 0);
    for i in 0..10 {
        p.publish(items(i..i + 1)).await;
        assert_eq!(texts(&mut fast, 1).await, [format!("m{i}")]);
    }
    assert_eq!(texts(&mut slow, 4).await, names(0..4));
    let own = publisher(&s, 1);
    assert_eq!(own.publish(items(4..8)).await, 1, "still behind");
    assert_eq!(texts(&mut slow, 4).await, names(4..8));
    assert_eq!(own.publish(items(8..10)).await, 0, "caught up: handed back");
    drop(own);
    assert_eq!(hub.upstream_count(), 1, "its own Docker follow is gone");
    assert_eq!(p.publish(items(10..11)).await, 2, "both share again");
    assert_eq!(texts(&mut slow, 3).await, names(8..11));
    assert_eq!(texts(&mut fast, 1).await, ["m10"]);
}
