//! From attempts to a diagnosis: the current run of failures (every attempt since the last
//! success) is read for the latest attempt's cause (the one to fix now; the run's other
//! causes are listed), and that cause is explained with the numbers that matter for it (the receiver's p95 against the timeout, the rate it was
//! sent before a 429, the body size before a 413).

use crate::time_fmt::Timestamp;
use crate::types::diagnostics::{Diagnosis, Finding};

/// One attempt as the diagnosis needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptFacts {
    pub started_at: i64,
    pub duration_ms: i64,
    pub response_status: Option<i64>,
    pub error_class: Option<String>,
    pub error: Option<String>,
    /// The `Retry-After` the receiver sent, as sent.
    pub retry_after: Option<String>,
    pub body_bytes: i64,
}

impl AttemptFacts {
    fn succeeded(&self) -> bool {
        self.error_class.is_none()
            && self
                .response_status
                .is_some_and(|s| (200..300).contains(&s))
    }

    fn finding(&self) -> Finding {
        match (self.error_class.as_deref(), self.response_status) {
            (Some("dns"), _) => Finding::Dns,
            (Some("connect"), _) => Finding::ConnectionRefused,
            (Some("tls_certificate_expired"), _) => Finding::TlsExpired,
            (Some("tls_name_mismatch"), _) => Finding::TlsNameMismatch,
            (Some("tls_unknown_ca"), _) => Finding::TlsUnknownCa,
            (Some("tls"), _) => Finding::Tls,
            (Some("https_required"), _) => Finding::HttpsRequired,
            (Some("ssrf_blocked"), _) => Finding::Blocked,
            (Some("timeout"), _) => Finding::Timeout,
            (Some("redirect"), _) => Finding::Redirect,
            (Some("response_rule"), _) => Finding::ResponseRule,
            (_, Some(401 | 403)) => Finding::Unauthorized,
            (_, Some(404 | 410)) => Finding::NotFound,
            (_, Some(413)) => Finding::PayloadTooLarge,
            (_, Some(429)) => Finding::RateLimited,
            (_, Some(s)) if (300..400).contains(&s) => Finding::Redirect,
            (_, Some(s)) if s >= 500 => Finding::ServerError,
            (_, Some(s)) if s >= 400 => Finding::ClientError,
            _ => Finding::Request,
        }
    }

    fn answer(&self) -> String {
        crate::types::events::answer(self.response_status, self.error.as_deref())
            .unwrap_or_else(|| "no answer".into())
    }
}

/// The 95th percentile of `values` (nearest rank), or 0 for none.
fn p95(values: &mut [i64]) -> i64 {
    if values.is_empty() {
        return 0;
    }
    values.sort_unstable();
    let rank = (values.len() * 95).div_ceil(100).max(1);
    values[rank - 1]
}

fn seconds(ms: i64) -> String {
    if ms >= 10_000 {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// Diagnoses `attempts` (newest first) of an endpoint at `url` with `timeout_ms`.
pub fn diagnose(attempts: &[AttemptFacts], url: &str, timeout_ms: i64) -> Diagnosis {
    let read = attempts.len();
    let failed = attempts.iter().filter(|a| !a.succeeded()).count();
    let Some(last) = attempts.first() else {
        return Diagnosis {
            finding: Finding::NoAttempts,
            headline: "Nothing has been sent to this endpoint yet.".into(),
            detail: "There are no attempts in its log.".into(),
            next_step:
                "Send a test event (or use \"Check my endpoint\") to see how the receiver answers."
                    .into(),
            attempts_read: 0,
            failed: 0,
            failing_since: None,
            last_error: None,
        };
    };
    let run: Vec<&AttemptFacts> = attempts.iter().take_while(|a| !a.succeeded()).collect();
    if run.is_empty() {
        let detail = if failed == 0 {
            format!("All of the last {read} attempts were delivered.")
        } else {
            format!(
                "{} of the last {read} attempts were delivered; the latest was.",
                read - failed
            )
        };
        return Diagnosis {
            finding: Finding::Healthy,
            headline: "Delivering: the receiver accepted the latest attempt.".into(),
            detail,
            next_step: "Nothing to do.".into(),
            attempts_read: read,
            failed,
            failing_since: None,
            last_error: None,
        };
    }
    // The latest attempt's cause is the one to fix now; others in the run are listed.
    let finding = last.finding();
    let n = run.iter().filter(|a| a.finding() == finding).count();
    let mut others: Vec<(Finding, usize)> = Vec::new();
    for a in &run {
        let f = a.finding();
        if f == finding {
            continue;
        }
        match others.iter_mut().find(|(g, _)| *g == f) {
            Some((_, k)) => *k += 1,
            None => others.push((f, 1)),
        }
    }
    let since = run.last().map(|a| a.started_at);
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port_or_known_default() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_owned(),
            })
        })
        .unwrap_or_else(|| url.to_owned());
    let also = if others.is_empty() {
        String::new()
    } else {
        let listed: Vec<String> = others
            .iter()
            .map(|(f, k)| format!("{} ×{k}", f.as_str()))
            .collect();
        format!("; also seen: {}", listed.join(", "))
    };
    let of_run = format!(
        "{n} of the {} failed attempts since {} ({}){also}",
        run.len(),
        since.map(crate::time_fmt::utc).unwrap_or_default(),
        last.answer()
    );
    let (headline, detail, next_step): (String, String, String) = match finding {
        Finding::Dns => (
            format!("The receiver's host name does not resolve ({host})."),
            of_run,
            "Check the spelling of the host in the endpoint's URL, and that its DNS record exists and is public.".into(),
        ),
        Finding::ConnectionRefused => (
            format!("Nothing accepts connections at {host}."),
            of_run,
            "Check that the receiver is running and listening on that port, and that no firewall blocks Hookline's address.".into(),
        ),
        Finding::TlsExpired => (
            format!("The receiver's TLS certificate has expired ({host})."),
            of_run,
            "Renew the certificate on the receiver (and automate renewal, e.g. with ACME); Hookline will not send to an expired one.".into(),
        ),
        Finding::TlsNameMismatch => (
            format!("The receiver's TLS certificate is for another name than {host}."),
            of_run,
            "Install a certificate that covers this host name, or change the endpoint's URL to the name the certificate is for.".into(),
        ),
        Finding::TlsUnknownCa => (
            "The receiver's TLS certificate is not signed by a known authority.".into(),
            of_run,
            "Use a certificate from a public CA, or give the endpoint the CA bundle that signed it.".into(),
        ),
        Finding::Tls => (
            "The TLS handshake with the receiver failed.".into(),
            of_run,
            "Check the receiver's TLS setup (protocol versions, and the client certificate if it asks for one).".into(),
        ),
        Finding::HttpsRequired => (
            "The endpoint's URL is http:// where HTTPS is required.".into(),
            of_run,
            "Change the URL to https:// (the receiver needs a valid certificate).".into(),
        ),
        Finding::Blocked => (
            "Hookline refused to connect: the address is private or otherwise not allowed.".into(),
            of_run,
            "Use a public address for the receiver; an operator can allow private targets on the server.".into(),
        ),
        Finding::Timeout => {
            let mut durations: Vec<i64> = attempts.iter().map(|a| a.duration_ms).collect();
            let p = p95(&mut durations);
            (
                format!("The receiver does not answer within the endpoint's {} timeout.", seconds(timeout_ms)),
                format!("{of_run}. Its p95 response time over the last {read} attempts is {} against a {} timeout.", seconds(p), seconds(timeout_ms)),
                "Answer at once with a 2xx and do the work afterwards (queue it), or raise the endpoint's timeout.".into(),
            )
        }
        Finding::Unauthorized => (
            format!("The receiver refuses the requests as unauthorized ({}).", last.answer()),
            of_run,
            "Check that the receiver verifies the signature with this endpoint's current signing secret, over the raw body as received, with its clock within 5 minutes (see \"Verify your signature\"); and that the endpoint's auth settings are what the receiver expects.".into(),
        ),
        Finding::NotFound => (
            format!("The receiver has nothing at this URL's path ({}).", last.answer()),
            of_run,
            format!("Check the path in {url} against the route the receiver serves."),
        ),
        Finding::PayloadTooLarge => {
            let largest = run.iter().map(|a| a.body_bytes).max().unwrap_or(0);
            (
                "The receiver refuses the body as too large (HTTP 413).".into(),
                format!("{of_run}. The largest body it refused was {largest} bytes."),
                "Raise the receiver's request size limit, or give the endpoint a body template that sends less.".into(),
            )
        }
        Finding::RateLimited => {
            let first_429 = run.last().map(|a| a.started_at).unwrap_or(last.started_at);
            let sent = attempts
                .iter()
                .filter(|a| a.started_at <= first_429 && a.started_at > first_429 - 60_000)
                .count();
            let retry_after = run.iter().find_map(|a| a.retry_after.clone());
            let suggested = (sent * 8 / 10).max(1);
            (
                "The receiver is rate-limiting Hookline (HTTP 429).".into(),
                format!(
                    "{of_run}. Hookline sent it {sent} requests in the minute up to the first 429{}.",
                    retry_after.map(|r| format!("; it asked to wait {r} s (Retry-After)")).unwrap_or_default()
                ),
                format!("Set the endpoint's rate limit below what the receiver allows (e.g. rate_limit_per_minute: {suggested}), or ask the receiver for a higher limit."),
            )
        }
        Finding::Redirect => (
            format!("The receiver answers with a redirect ({}); Hookline does not follow redirects.", last.answer()),
            of_run,
            "Change the endpoint's URL to the address it redirects to.".into(),
        ),
        Finding::ClientError => (
            format!("The receiver rejects the requests ({}).", last.answer()),
            of_run,
            "Read the response body in the attempt log for why; the receiver may expect another body shape (a template can change it).".into(),
        ),
        Finding::ServerError => (
            format!("The receiver is failing ({}).", last.answer()),
            of_run,
            "Look in the receiver's own logs around those times; Hookline keeps retrying on the endpoint's schedule.".into(),
        ),
        Finding::ResponseRule => (
            format!("The receiver answers ({}), but the endpoint's response rules count it as a failure.", last.answer()),
            format!("{of_run}. The rule that decided: {}.", last.error.clone().unwrap_or_default()),
            "Check what the receiver puts in its response (the attempt log has its body) against the endpoint's response rules.".into(),
        ),
        Finding::Request | Finding::Healthy | Finding::NoAttempts => (
            "The requests fail before the receiver answers.".into(),
            of_run,
            "Read the error in the attempt log; check the URL and the receiver's network.".into(),
        ),
    };
    Diagnosis {
        finding,
        headline,
        detail,
        next_step,
        attempts_read: read,
        failed,
        failing_since: since.map(Timestamp),
        last_error: Some(last.answer()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: i64, status: Option<i64>, class: Option<&str>, ms: i64) -> AttemptFacts {
        AttemptFacts {
            started_at: t,
            duration_ms: ms,
            response_status: status,
            error_class: class.map(str::to_owned),
            error: class.map(|c| format!("{c} error")),
            retry_after: None,
            body_bytes: 100,
        }
    }

    const URL: &str = "https://hooks.acme.example/in";

    #[test]
    fn nothing_sent_and_healthy() {
        assert_eq!(diagnose(&[], URL, 30_000).finding, Finding::NoAttempts);
        let d = diagnose(
            &[
                at(3, Some(200), None, 10),
                at(2, Some(500), Some("http_status"), 10),
            ],
            URL,
            30_000,
        );
        assert_eq!(d.finding, Finding::Healthy);
        assert_eq!((d.attempts_read, d.failed), (2, 1));
        assert!(d.detail.contains("1 of the last 2"), "{}", d.detail);
    }

    #[test]
    fn each_cause_is_named_with_its_next_step() {
        let cases = [
            (
                at(1, None, Some("dns"), 5),
                Finding::Dns,
                "does not resolve (hooks.acme.example:443)",
            ),
            (
                at(1, None, Some("connect"), 5),
                Finding::ConnectionRefused,
                "hooks.acme.example:443",
            ),
            (
                at(1, None, Some("tls_certificate_expired"), 5),
                Finding::TlsExpired,
                "expired",
            ),
            (
                at(1, None, Some("tls_name_mismatch"), 5),
                Finding::TlsNameMismatch,
                "another name",
            ),
            (
                at(1, None, Some("tls_unknown_ca"), 5),
                Finding::TlsUnknownCa,
                "known authority",
            ),
            (
                at(1, Some(401), Some("http_status"), 5),
                Finding::Unauthorized,
                "unauthorized (HTTP 401)",
            ),
            (
                at(1, Some(403), Some("http_status"), 5),
                Finding::Unauthorized,
                "HTTP 403",
            ),
            (
                at(1, Some(404), Some("http_status"), 5),
                Finding::NotFound,
                "path",
            ),
            (
                at(1, Some(413), Some("http_status"), 5),
                Finding::PayloadTooLarge,
                "too large",
            ),
            (
                at(1, Some(503), Some("http_status"), 5),
                Finding::ServerError,
                "failing (HTTP 503)",
            ),
            (
                at(1, Some(422), Some("http_status"), 5),
                Finding::ClientError,
                "HTTP 422",
            ),
            (
                at(1, Some(301), Some("redirect"), 5),
                Finding::Redirect,
                "redirect",
            ),
        ];
        for (attempt, finding, words) in cases {
            let d = diagnose(&[attempt], URL, 30_000);
            assert_eq!(d.finding, finding, "{d:?}");
            assert!(d.headline.contains(words), "{finding:?}: {}", d.headline);
            assert!(!d.next_step.is_empty());
            assert_eq!(d.failing_since, Some(Timestamp(1)));
        }
        let d = diagnose(&[at(1, Some(401), Some("http_status"), 5)], URL, 30_000);
        assert!(d.next_step.contains("signing secret"), "{}", d.next_step);
    }

    #[test]
    fn a_timeout_shows_the_p95_against_the_timeout() {
        let mut attempts: Vec<AttemptFacts> = (0..19)
            .map(|i| at(100 - i, Some(200), None, 1_000 + i * 100))
            .collect();
        attempts.insert(0, at(200, None, Some("timeout"), 5_000));
        attempts.insert(0, at(201, None, Some("timeout"), 5_000));
        let d = diagnose(&attempts, URL, 5_000);
        assert_eq!(d.finding, Finding::Timeout);
        assert!(d.headline.contains("5.0 s timeout"), "{}", d.headline);
        assert!(
            d.detail.contains(
                "p95 response time over the last 21 attempts is 5.0 s against a 5.0 s timeout"
            ),
            "{}",
            d.detail
        );
        assert_eq!(d.failing_since, Some(Timestamp(200)));
    }

    #[test]
    fn a_429_shows_the_rate_that_was_sent() {
        let mut attempts: Vec<AttemptFacts> = (0..30)
            .map(|i| at(100_000 - i * 1000, Some(200), None, 5))
            .collect();
        let mut limited = at(100_500, Some(429), Some("http_status"), 5);
        limited.retry_after = Some("30".into());
        attempts.insert(0, limited);
        let d = diagnose(&attempts, URL, 30_000);
        assert_eq!(d.finding, Finding::RateLimited);
        assert!(
            d.detail.contains("sent it 31 requests in the minute"),
            "{}",
            d.detail
        );
        assert!(d.detail.contains("wait 30 s"), "{}", d.detail);
        assert!(
            d.next_step.contains("rate_limit_per_minute: 24"),
            "{}",
            d.next_step
        );
    }

    #[test]
    fn the_latest_cause_is_diagnosed_and_the_others_listed() {
        let attempts = [
            at(5, None, Some("connect"), 5),
            at(4, Some(500), Some("http_status"), 5),
            at(3, Some(500), Some("http_status"), 5),
            at(2, Some(200), None, 5),
            at(1, None, Some("dns"), 5),
        ];
        let d = diagnose(&attempts, URL, 30_000);
        assert_eq!(d.finding, Finding::ConnectionRefused);
        assert!(
            d.detail.starts_with("1 of the 3 failed attempts"),
            "{}",
            d.detail
        );
        assert!(
            d.detail.ends_with("also seen: server_error ×2"),
            "{}",
            d.detail
        );
        assert_eq!(d.last_error.as_deref(), Some("connect error"));
        assert_eq!(d.failing_since, Some(Timestamp(3)));
    }
}
