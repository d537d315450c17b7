//! The one way a handler retries a change that lost a race: the store refuses a write
//! whose condition on the version read no longer holds; the handler reads again and
//! tries again, a few times, then asks the client to retry.

use std::future::Future;

use crate::http::ApiError;

/// How many times a change is tried.
pub const ATTEMPTS: usize = 3;

/// What one try came to.
pub enum Attempt<T> {
    Done(T),
    /// Something changed meanwhile: read again and try again.
    Changed,
}

/// A store result as an attempt: `changed` says which refusal means "read again".
pub fn outcome<T, E: Into<ApiError>>(
    result: Result<T, E>,
    changed: impl FnOnce(&E) -> bool,
) -> Result<Attempt<T>, ApiError> {
    match result {
        Ok(v) => Ok(Attempt::Done(v)),
        Err(e) if changed(&e) => Ok(Attempt::Changed),
        Err(e) => Err(e.into()),
    }
}

/// Tries `attempt` on what was read first, then on what `reread` reads, while it reports
/// a change; `gave_up` when every try lost.
pub async fn on_change<S, T, A, AF, R, RF>(
    first: S,
    mut attempt: A,
    mut reread: R,
    gave_up: ApiError,
) -> Result<T, ApiError>
where
    A: FnMut(S) -> AF,
    AF: Future<Output = Result<Attempt<T>, ApiError>>,
    R: FnMut() -> RF,
    RF: Future<Output = Result<S, ApiError>>,
{
    let mut read = Some(first);
    for _ in 0..ATTEMPTS {
        let state = match read.take() {
            Some(s) => s,
            None => reread().await?,
        };
        if let Attempt::Done(done) = attempt(state).await? {
            return Ok(done);
        }
    }
    Err(gave_up)
}
