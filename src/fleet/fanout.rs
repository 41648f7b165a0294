//! One question put to many hosts: at most [`AT_ONCE`] asked at a time, and
//! every answer due within [`DEADLINE`] of the first question, so a read of
//! every host answers within that deadline whatever its hosts do. REST's
//! `?host=*` ([`super::merge`]) and MCP's `host: "*"` and its search for a
//! container's host ask through here.

use futures_util::StreamExt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// Hosts asked at once: every member of a front door of 50 hosts (the
/// scale `make bench` measures) in one round, so a fleet-wide read waits
/// for its slowest host once rather than once per round.
pub const AT_ONCE: usize = 64;

/// How long the hosts have to answer, counted from the first question.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// A host's answer to come, or why it gave none.
pub type Asking<'a, T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send + 'a>>;

/// A host's name and its answer, to come.
type Named<'a, T> = Pin<Box<dyn Future<Output = (String, Result<T, String>)> + Send + 'a>>;

/// Each host's name and answer, in the order asked; a host that has not
/// answered by the deadline gets why.
pub async fn each<'a, T: Send + 'a>(
    asked: Vec<(String, Asking<'a, T>)>,
) -> Vec<(String, Result<T, String>)> {
    let until = tokio::time::Instant::now() + DEADLINE;
    let timed: Vec<Named<'a, T>> = asked
        .into_iter()
        .map(|(name, answer)| Box::pin(by(until, name, answer)) as Named<'a, T>)
        .collect();
    futures_util::stream::iter(timed)
        .buffered(AT_ONCE)
        .collect()
        .await
}

/// `answer` of host `name`, or why it did not come by `until`.
async fn by<T>(
    until: tokio::time::Instant,
    name: String,
    answer: Asking<'_, T>,
) -> (String, Result<T, String>) {
    let answer = tokio::time::timeout_at(until, answer).await;
    let late = || format!("no answer within {} s", DEADLINE.as_secs());
    (name, answer.unwrap_or_else(|_| Err(late())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(ms: u64, answer: Result<u32, String>) -> Asking<'static, u32> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            answer
        })
    }

    #[tokio::test(start_paused = true)]
    async fn every_host_is_asked_at_once_and_answers_come_in_the_order_asked() {
        let asked: Vec<_> = (0..AT_ONCE as u32)
            .map(|k| (format!("h{k}"), after(1000 - u64::from(k), Ok(k))))
            .collect();
        let start = tokio::time::Instant::now();
        let answers = each(asked).await;
        // Side by side: the slowest host's time, not the sum or a round each.
        assert_eq!(start.elapsed(), Duration::from_millis(1000));
        let order: Vec<u32> = answers.iter().map(|(_, a)| *a.as_ref().unwrap()).collect();
        assert_eq!(order, (0..AT_ONCE as u32).collect::<Vec<_>>());
        assert_eq!(answers[3].0, "h3");
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_counts_from_the_first_question_for_every_host() {
        // More hosts than are asked at once, each slow: the ones asked in
        // the second round get what is left of the deadline, not their own.
        let n = AT_ONCE + 2;
        let slow = DEADLINE.as_millis() as u64 - 1000;
        let asked: Vec<_> = (0..n)
            .map(|k| (format!("h{k}"), after(slow, Ok(k as u32))))
            .collect();
        let start = tokio::time::Instant::now();
        let answers = each(asked).await;
        assert_eq!(start.elapsed(), DEADLINE);
        assert!(answers[..AT_ONCE].iter().all(|(_, a)| a.is_ok()));
        for (_, late) in &answers[AT_ONCE..] {
            assert_eq!(late.as_ref().unwrap_err(), "no answer within 10 s");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_host_s_failure_is_its_own() {
        let answers = each(vec![
            ("up".into(), after(5, Ok(1))),
            ("down".into(), after(1, Err("connection refused".into()))),
        ])
        .await;
        assert_eq!(answers[0], ("up".to_string(), Ok(1)));
        assert_eq!(answers[1].1, Err("connection refused".to_string()));
    }
}
