//! The pace of the notifier's sends: a token bucket at the account's SES sending rate,
//! which every send of a notifier takes a token of, and the retries of a send SES
//! throttled anyway, within the batch and its time.
//!
//! Hand-written rather than `governor`'s: what the notifier needs is one unkeyed bucket
//! whose waits stop at the batch's deadline (a send that would go after it is left to the
//! stream's redelivery rather than cut off by Lambda's timeout), tested on a fake clock;
//! that is the few lines of [`TokenBucket::take`], and the API artifact (the notifier's)
//! takes on no crate for it.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::SendError;

/// The emails a second the notifier sends when `KABINET_MAIL_RATE` does not say: SES's
/// maximum send rate of an account just out of the sandbox (the sandbox's is 1). An
/// account's own is its `SendQuota.MaxSendRate` (`aws sesv2 get-account`).
pub const DEFAULT_RATE: f64 = 14.0;

/// A token bucket of `rate` tokens a second holding at most `burst`, in the form of the
/// time the next token is due (the "theoretical arrival time" of GCRA): a send takes a
/// token and goes at once while the bucket holds one, and otherwise at the time one comes.
/// Pure: the caller says what time it is.
#[derive(Debug)]
pub struct TokenBucket {
    /// Between two tokens.
    interval: Duration,
    /// How far ahead of the next token's time a send may go: (`burst` - 1) intervals.
    tolerance: Duration,
    /// When the bucket is full again; `None` before the first token is taken.
    due: Option<Instant>,
}

impl TokenBucket {
    /// A bucket of `rate` tokens a second (more than 0; anything else is taken as the
    /// default) holding `burst` at most (at least 1), full.
    pub fn new(rate: f64, burst: u32) -> Self {
        let rate = if rate.is_finite() && rate > 0.0 { rate } else { DEFAULT_RATE };
        let interval = Duration::from_secs_f64(1.0 / rate);
        TokenBucket { interval, tolerance: interval * burst.max(1).saturating_sub(1), due: None }
    }

    /// Takes a token at `now`: the time the send may go (`now`, or when its token comes),
    /// or `None`, taking nothing, when that is after `deadline`.
    pub fn take(&mut self, now: Instant, deadline: Instant) -> Option<Instant> {
        let due = self.due.map_or(now, |d| d.max(now));
        let at = due.checked_sub(self.tolerance).map_or(now, |t| t.max(now));
        if at > deadline {
            return None;
        }
        self.due = Some(due + self.interval);
        Some(at)
    }
}

/// The bucket the sends of one notifier share (a Lambda sandbox runs one invocation at a
/// time: the bucket is the invocation's, and carries its pace into the next).
#[derive(Debug)]
pub struct Pacer {
    bucket: Mutex<TokenBucket>,
}

impl Pacer {
    /// Sends at `rate` a second, one at a time: a bucket of one token, so a batch that
    /// follows another does not start with a burst over the account's rate.
    pub fn new(rate: f64) -> Self {
        Pacer { bucket: Mutex::new(TokenBucket::new(rate, 1)) }
    }

    /// Waits for a token; false (taking none, at once) when it would come after `deadline`.
    pub async fn ready(&self, deadline: Instant) -> bool {
        let at = {
            let mut bucket = self.bucket.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            bucket.take(Instant::now(), deadline)
        };
        match at {
            Some(at) => {
                tokio::time::sleep_until(at).await;
                true
            }
            None => false,
        }
    }
}

/// How a throttled send is tried again: after `first`, doubling up to `max` (each wait
/// jittered between half and all of it), `attempts` times at most, and never past the
/// batch's deadline.
#[derive(Debug, Clone, Copy)]
pub struct Throttled {
    pub first: Duration,
    pub max: Duration,
    pub attempts: u32,
}

/// The notifier's: the SES client has already retried the send with its own backoff
/// (5 attempts from 200 ms); these waits are longer, for the account's rate to recover.
pub const THROTTLED: Throttled = Throttled { first: Duration::from_secs(1), max: Duration::from_secs(8), attempts: 6 };

impl Throttled {
    /// After the `retried`-th retry (0 for the first throttle) of a throttled send at
    /// `now`: how long to wait before trying it again, or `None` to give up (the attempts
    /// are spent, or the wait would pass `deadline`). `jitter` in [0, 1) picks the wait.
    pub fn wait(&self, retried: u32, now: Instant, deadline: Instant, jitter: f64) -> Option<Duration> {
        if retried >= self.attempts {
            return None;
        }
        let full = self.first.saturating_mul(2u32.saturating_pow(retried)).min(self.max);
        let wait = full.mul_f64(0.5 + jitter.clamp(0.0, 1.0) / 2.0);
        (now + wait <= deadline).then_some(wait)
    }
}

/// Sends one email at `pacer`'s pace: `send` is called once a token is taken, and again
/// (with a token each time) while SES throttles it, as [`Throttled`] allows. Any other
/// failure is answered as it is; a send that cannot go before `deadline` fails as a
/// transient error (the stream delivers the record again).
pub async fn paced<F, Fut>(pacer: &Pacer, retry: Throttled, deadline: Instant, mut send: F) -> Result<(), SendError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), SendError>>,
{
    let mut retried = 0;
    loop {
        if !pacer.ready(deadline).await {
            return Err(SendError::transient("the batch's time to send ran out before this email's turn".into()));
        }
        match send().await {
            Err(e) if e.throttled => match retry.wait(retried, Instant::now(), deadline, rand::random()) {
                Some(wait) => {
                    tracing::info!(wait_ms = wait.as_millis() as u64, retried, "SES throttled the send; trying again");
                    tokio::time::sleep(wait).await;
                    retried += 1;
                }
                None => return Err(e),
            },
            sent => return sent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn the_bucket_spaces_sends_at_its_rate() {
        let t0 = Instant::now();
        let far = t0 + Duration::from_secs(60);
        let mut b = TokenBucket::new(14.0, 1);
        // 14 a second: one at once, then one every 71.4 ms.
        let at: Vec<Duration> = (0..15).map(|_| b.take(t0, far).unwrap() - t0).collect();
        assert_eq!(at[0], Duration::ZERO);
        assert!(at.windows(2).all(|w| w[1] - w[0] == Duration::from_secs_f64(1.0 / 14.0)), "{at:?}");
        assert!(at[14] >= Duration::from_secs(1) - MS(1) && at[14] <= Duration::from_secs(1));
        // A second later with no send between, the next goes at once (the bucket refilled).
        let later = t0 + Duration::from_secs(3);
        assert_eq!(b.take(later, far), Some(later));
        assert_eq!(b.take(later, far).map(|t| t - later), Some(Duration::from_secs_f64(1.0 / 14.0)));
    }

    #[test]
    fn a_burst_goes_at_once_and_the_rest_at_the_rate() {
        let t0 = Instant::now();
        let far = t0 + Duration::from_secs(60);
        let mut b = TokenBucket::new(10.0, 3);
        let at: Vec<Duration> = (0..5).map(|_| b.take(t0, far).unwrap() - t0).collect();
        assert_eq!(at, [Duration::ZERO, Duration::ZERO, Duration::ZERO, MS(100), MS(200)]);
        // Half a second idle refills it to its three, not five.
        let t1 = t0 + MS(800);
        let at: Vec<Duration> = (0..4).map(|_| b.take(t1, far).unwrap() - t1).collect();
        assert_eq!(at, [Duration::ZERO, Duration::ZERO, Duration::ZERO, MS(100)]);
    }

    #[test]
    fn no_token_is_taken_past_the_deadline() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(1.0, 1);
        let deadline = t0 + MS(2500);
        assert_eq!(b.take(t0, deadline), Some(t0));
        assert_eq!(b.take(t0, deadline), Some(t0 + MS(1000)));
        assert_eq!(b.take(t0, deadline), Some(t0 + MS(2000)));
        // The fourth would go at 3 s: refused, and nothing taken (the next asks the same).
        assert_eq!(b.take(t0, deadline), None);
        assert_eq!(b.take(t0, deadline), None);
        assert_eq!(b.take(t0, t0 + MS(3000)), Some(t0 + MS(3000)));
    }

    #[test]
    fn a_rate_that_is_no_rate_is_the_default() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(TokenBucket::new(rate, 1).interval, Duration::from_secs_f64(1.0 / DEFAULT_RATE));
        }
        assert_eq!(TokenBucket::new(0.5, 1).interval, MS(2000));
    }

    #[test]
    fn a_throttled_send_waits_longer_each_time_within_the_deadline() {
        let t0 = Instant::now();
        let far = t0 + Duration::from_secs(600);
        // Without jitter (1): 1, 2, 4, 8, 8, 8 s; then no more.
        let waits: Vec<Option<Duration>> = (0..7).map(|i| THROTTLED.wait(i, t0, far, 0.999_999)).collect();
        let secs: Vec<u64> = waits.iter().flatten().map(|w| w.as_secs_f64().round() as u64).collect();
        assert_eq!(secs, [1, 2, 4, 8, 8, 8]);
        assert_eq!(waits[6], None);
        // Jitter takes between half the wait and all of it.
        assert_eq!(THROTTLED.wait(2, t0, far, 0.0), Some(Duration::from_secs(2)));
        // Not past the deadline: the send is left to the stream.
        assert_eq!(THROTTLED.wait(0, t0, t0 + MS(400), 0.0), None);
        assert_eq!(THROTTLED.wait(0, t0, t0 + MS(500), 0.0), Some(MS(500)));
    }

    fn throttled() -> SendError {
        SendError {
            reason: "TooManyRequestsException: Maximum sending rate exceeded".into(),
            permanent: false,
            throttled: true,
        }
    }

    const QUICK: Throttled = Throttled { first: Duration::from_millis(5), max: Duration::from_millis(20), attempts: 3 };

    /// A fake sender that SES throttles twice: the send goes on the third try, each try
    /// taking its token, within the batch.
    #[tokio::test]
    async fn a_throttled_send_is_retried_within_the_batch() {
        let pacer = Pacer::new(1000.0);
        let tries = AtomicU32::new(0);
        let deadline = Instant::now() + Duration::from_secs(5);
        let sent = paced(&pacer, QUICK, deadline, || async {
            if tries.fetch_add(1, Ordering::SeqCst) < 2 {
                Err(throttled())
            } else {
                Ok(())
            }
        })
        .await;
        assert!(sent.is_ok(), "{sent:?}");
        assert_eq!(tries.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_send_throttled_past_its_attempts_fails_as_throttled_and_others_at_once() {
        let pacer = Pacer::new(1000.0);
        let tries = AtomicU32::new(0);
        let deadline = Instant::now() + Duration::from_secs(5);
        let sent = paced(&pacer, QUICK, deadline, || async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err(throttled())
        })
        .await;
        let e = sent.unwrap_err();
        assert!(e.throttled && !e.permanent);
        assert_eq!(tries.load(Ordering::SeqCst), 1 + QUICK.attempts);
        // A server error or a permanent refusal is not retried here (the SES client has
        // retried the first already).
        for error in [SendError::transient("InternalFailure".into()), SendError::permanent("BadRequest".into())] {
            let tries = AtomicU32::new(0);
            let sent = paced(&pacer, QUICK, deadline, || async {
                tries.fetch_add(1, Ordering::SeqCst);
                Err(error.clone())
            })
            .await;
            assert_eq!((sent.unwrap_err(), tries.load(Ordering::SeqCst)), (error, 1));
        }
    }

    /// The sends of a batch share the bucket: 20 at 100 a second take about 0.19 s, and
    /// those whose turn would come after the deadline fail without being tried. On tokio's
    /// paused clock: the test's time is the bucket's, not the machine's.
    #[tokio::test(start_paused = true)]
    async fn the_sends_of_a_batch_share_the_pace_and_its_deadline() {
        use futures::stream::{self, StreamExt};
        let pacer = Pacer::new(100.0);
        let tries = AtomicU32::new(0);
        let started = Instant::now();
        let deadline = started + MS(145);
        let results: Vec<Result<(), SendError>> = stream::iter(0..20)
            .map(|_| {
                paced(&pacer, QUICK, deadline, || async {
                    tries.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                })
            })
            .buffer_unordered(8)
            .collect()
            .await;
        let sent = results.iter().filter(|r| r.is_ok()).count();
        // Turns at 0, 10, ..., 140 ms: 15 go, the others are left to the stream without
        // being tried.
        assert_eq!(sent, 15);
        assert_eq!(tries.load(Ordering::SeqCst) as usize, sent);
        assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| !e.permanent && !e.throttled));
        assert!(started.elapsed() >= MS(10) * (sent as u32 - 1), "{:?}", started.elapsed());
    }
}
