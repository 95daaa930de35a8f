//! What an attempt's result means: success, retry (when), disable the endpoint, or give up.

use std::time::Duration;

/// Immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
pub const DEFAULT_SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];
/// Bounds for a receiver's `Retry-After`.
pub const RETRY_AFTER_MIN: Duration = Duration::from_secs(1);
pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(6 * 3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    Dns,
    Connect,
    /// A TLS failure other than these three (a handshake the receiver refused, a client
    /// certificate it did not accept, a protocol error).
    Tls,
    TlsExpired,
    TlsNameMismatch,
    TlsUnknownCa,
    /// An `http://` URL where HTTPS only is required (the endpoint's or the platform's).
    HttpsRequired,
    Timeout,
    HttpStatus,
    Redirect,
    SsrfBlocked,
    Request,
}

impl ErrorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Dns => "dns",
            ErrorClass::Connect => "connect",
            ErrorClass::Tls => "tls",
            ErrorClass::TlsExpired => "tls_certificate_expired",
            ErrorClass::TlsNameMismatch => "tls_name_mismatch",
            ErrorClass::TlsUnknownCa => "tls_unknown_ca",
            ErrorClass::HttpsRequired => "https_required",
            ErrorClass::Timeout => "timeout",
            ErrorClass::HttpStatus => "http_status",
            ErrorClass::Redirect => "redirect",
            ErrorClass::SsrfBlocked => "ssrf_blocked",
            ErrorClass::Request => "request",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// `410 Gone`: stop, and disable the endpoint.
    Gone,
    /// Try again later; `harder` for overload signals (429, 502-504, timeouts).
    Retry {
        harder: bool,
    },
    /// The endpoint's response rules say not to retry: a dead letter at once.
    NoRetry,
}

pub fn judge(status: Option<u16>, class: Option<ErrorClass>) -> Verdict {
    match (status, class) {
        (Some(s), _) if (200..300).contains(&s) => Verdict::Delivered,
        (Some(410), _) => Verdict::Gone,
        (Some(429 | 502 | 503 | 504), _) | (_, Some(ErrorClass::Timeout)) => {
            Verdict::Retry { harder: true }
        }
        _ => Verdict::Retry { harder: false },
    }
}

/// The delay before the next attempt after `attempts_made` attempts, or `None` when the
/// schedule is exhausted (dead letter). `jitter` is in [-1, 1] and scales ±20 %.
pub fn next_delay(
    schedule: &[Duration],
    attempts_made: usize,
    harder: bool,
    retry_after: Option<Duration>,
    jitter: f64,
) -> Option<Duration> {
    let base = *schedule.get(attempts_made.checked_sub(1)?)?;
    let mut delay = base.mul_f64(1.0 + 0.2 * jitter.clamp(-1.0, 1.0));
    if harder {
        delay = delay.mul_f64(2.0).max(Duration::from_secs(1));
    }
    if let Some(ra) = retry_after {
        delay = delay.max(ra.clamp(RETRY_AFTER_MIN, RETRY_AFTER_MAX));
    }
    Some(delay)
}

/// `Retry-After` as seconds or an HTTP date, relative to `now`.
pub fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(judge(Some(200), None), Verdict::Delivered);
        assert_eq!(judge(Some(204), None), Verdict::Delivered);
        assert_eq!(
            judge(Some(301), Some(ErrorClass::Redirect)),
            Verdict::Retry { harder: false }
        );
        assert_eq!(judge(Some(410), None), Verdict::Gone);
        assert_eq!(judge(Some(503), None), Verdict::Retry { harder: true });
        assert_eq!(judge(Some(429), None), Verdict::Retry { harder: true });
        assert_eq!(judge(Some(500), None), Verdict::Retry { harder: false });
        assert_eq!(
            judge(None, Some(ErrorClass::Timeout)),
            Verdict::Retry { harder: true }
        );
        assert_eq!(
            judge(None, Some(ErrorClass::Connect)),
            Verdict::Retry { harder: false }
        );
    }

    #[test]
    fn schedule_jitter_and_retry_after() {
        let s = [Duration::from_secs(10), Duration::from_secs(100)];
        assert_eq!(
            next_delay(&s, 1, false, None, 0.0),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            next_delay(&s, 1, false, None, 1.0),
            Some(Duration::from_secs(12))
        );
        assert_eq!(
            next_delay(&s, 1, false, None, -1.0),
            Some(Duration::from_secs(8))
        );
        assert_eq!(
            next_delay(&s, 2, true, None, 0.0),
            Some(Duration::from_secs(200))
        );
        assert_eq!(
            next_delay(&s, 3, false, None, 0.0),
            None,
            "schedule exhausted: dead letter"
        );
        assert_eq!(
            next_delay(&s, 1, true, Some(Duration::from_secs(120)), 0.0),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            next_delay(&s, 1, true, Some(Duration::from_secs(999_999)), 0.0),
            Some(RETRY_AFTER_MAX)
        );
        let now = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
