//! Faults on demand: the next N Graph requests fail in a chosen way.

use std::collections::VecDeque;

use serde::Deserialize;

/// The most requests one fault may hit or let through first.
const MAX_COUNT: u32 = 100_000;
/// The longest a `slow` fault stalls.
const MAX_DELAY_MS: u64 = 20_000;

/// `POST /sim/faults` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRequest {
    /// The status to answer with.
    pub status: Option<u16>,
    /// Seconds, possibly fractional (Graph sends values like `2.128`).
    pub retry_after: Option<f64>,
    /// The fault's name (`status` when a status is given).
    pub kind: Option<String>,
    /// How many requests it answers (default 1).
    pub count: Option<u32>,
    /// For `slow`: how long to stall, in ms (default 1500).
    pub delay_ms: Option<u64>,
    /// For `foreign_link`: the origin the next link points to, e.g. `http://127.0.0.1:9`.
    pub target: Option<String>,
    /// Let this many requests through before the fault starts (default 0).
    pub skip: Option<u32>,
    /// With `status`: Graph's error code to answer with (`ConcurrentItemSave`).
    pub code: Option<String>,
    /// With `status`, on a write: apply the change first, then answer with the error (as a
    /// 503 `ConcurrentItemSave` after the event was made).
    pub after_apply: Option<bool>,
}

/// One way a request can fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// An error status with Graph's error body (and `Retry-After` when given).
    Status {
        /// The status.
        status: u16,
        /// `Retry-After`, in milliseconds (sent as seconds, fractional when it has to be).
        retry_after_ms: Option<u64>,
        /// Graph's error code, when the request named one.
        code: Option<String>,
        /// On a write: applied first, then the error.
        after_apply: bool,
    },
    /// On a write: applied, then the connection is cut before the answer (on a read, as
    /// `Drop`).
    LostResponse,
    /// Headers, then the connection is cut before the body.
    Drop,
    /// A complete HTTP response whose JSON body is cut in half.
    Truncate,
    /// A 200 whose body is not JSON.
    Malformed,
    /// The response comes late.
    Slow {
        /// How late.
        delay_ms: u64,
    },
    /// An empty page whose nextLink repeats the same position (real first pages often are empty).
    Empty,
    /// The page's link points to another origin: a client must not follow it with its token.
    ForeignLink {
        /// The origin the link points to.
        origin: String,
    },
    /// The page is served, and its nextLink, new every time, serves it again: a round that
    /// loops, as real rounds on recurrence-heavy mailboxes do.
    Loop,
}

impl FaultRequest {
    /// The fault, how many requests it hits, and how many it lets through first.
    pub fn into_fault(self) -> Result<(Fault, u32, u32), String> {
        let count = self.count.unwrap_or(1);
        let skip = self.skip.unwrap_or(0);
        if count > MAX_COUNT || skip > MAX_COUNT {
            return Err(format!("count and skip: at most {MAX_COUNT}"));
        }
        if self.delay_ms.is_some_and(|d| d > MAX_DELAY_MS) {
            return Err(format!(
                "delay_ms: at most {MAX_DELAY_MS} (requests time out at 30 s)"
            ));
        }
        let fault = match (self.status, self.kind.as_deref()) {
            (Some(status), None) if (400..600).contains(&status) => Fault::Status {
                status,
                retry_after_ms: match self.retry_after {
                    Some(secs) if (0.0..=86_400.0).contains(&secs) => {
                        Some((secs * 1000.0).round() as u64)
                    }
                    Some(secs) => return Err(format!("retry_after {secs} is not 0 to 86400 s")),
                    None => None,
                },
                code: self.code,
                after_apply: self.after_apply.unwrap_or(false),
            },
            (Some(status), None) => return Err(format!("status {status} is not an error status")),
            (None, Some("drop")) => Fault::Drop,
            (None, Some("lost_response")) => Fault::LostResponse,
            (None, Some("truncate")) => Fault::Truncate,
            (None, Some("malformed")) => Fault::Malformed,
            (None, Some("slow")) => Fault::Slow {
                delay_ms: self.delay_ms.unwrap_or(1500),
            },
            (None, Some("empty")) => Fault::Empty,
            (None, Some("loop")) => Fault::Loop,
            (None, Some("foreign_link")) => Fault::ForeignLink {
                origin: self.target.ok_or("foreign_link needs `target`")?,
            },
            (None, Some(other)) => return Err(format!("unknown fault kind `{other}`")),
            (None, None) => return Err("a fault needs `status` or `kind`".into()),
            (Some(_), Some(_)) => return Err("give `status` or `kind`, not both".into()),
        };
        Ok((fault, count, skip))
    }
}

/// Faults waiting for the next requests, in order.
#[derive(Debug, Default)]
pub struct FaultQueue {
    queue: VecDeque<(Fault, u32, u32)>,
}

impl FaultQueue {
    /// Queues `fault` for `count` requests, after letting `skip` through.
    pub fn push(&mut self, fault: Fault, count: u32, skip: u32) {
        if count > 0 {
            self.queue.push_back((fault, count, skip));
        }
    }

    /// The fault for the next request, if any.
    pub fn take_next(&mut self) -> Option<Fault> {
        let (fault, left, skip) = self.queue.front_mut()?;
        if *skip > 0 {
            *skip -= 1;
            return None;
        }
        let fault = fault.clone();
        *left -= 1;
        if *left == 0 {
            self.queue.pop_front();
        }
        Some(fault)
    }

    /// Drops every queued fault.
    pub fn clear(&mut self) {
        self.queue.clear();
    }
}
