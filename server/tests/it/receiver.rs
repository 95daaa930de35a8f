//! A real HTTP receiver for delivery tests: answers with scripted replies (status, delay,
//! headers) and records every request it gets.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
    /// What the receiver answered.
    pub status: u16,
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub delay: Duration,
    pub headers: Vec<(&'static str, String)>,
    /// What it answers with (default: a short text).
    pub body: Option<String>,
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            delay: Duration::ZERO,
            headers: Vec::new(),
            body: None,
        }
    }
    pub fn delayed(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
    pub fn body(mut self, body: &str) -> Reply {
        self.body = Some(body.to_owned());
        self
    }
    pub fn header(mut self, k: &'static str, v: &str) -> Reply {
        self.headers.push((k, v.to_string()));
        self
    }
}

#[derive(Default)]
struct Inner {
    hits: Vec<Hit>,
    /// Percent of requests answered 500 at random (after the script).
    flaky_percent: u32,
    script: VecDeque<Reply>,
    in_flight: usize,
    max_in_flight: usize,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    default: Arc<Mutex<Reply>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let default = Arc::new(Mutex::new(Reply::status(200)));
        let (i, d) = (inner.clone(), default.clone());
        let app = axum::Router::new().fallback(
            move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
                let (inner, default) = (i.clone(), d.clone());
                async move {
                    let reply = {
                        let mut g = inner.lock().unwrap();
                        let flaky = g.flaky_percent;
                        let reply = g.script.pop_front().unwrap_or_else(|| {
                            if flaky > 0 && rand::random::<u32>() % 100 < flaky {
                                Reply::status(500)
                            } else {
                                default.lock().unwrap().clone()
                            }
                        });
                        g.hits.push(Hit {
                            path: uri.path().to_string(),
                            headers,
                            body,
                            at: Instant::now(),
                            status: reply.status,
                        });
                        g.in_flight += 1;
                        g.max_in_flight = g.max_in_flight.max(g.in_flight);
                        reply
                    };
                    tokio::time::sleep(reply.delay).await;
                    inner.lock().unwrap().in_flight -= 1;
                    let mut h = HeaderMap::new();
                    for (k, v) in &reply.headers {
                        h.insert(*k, v.parse().unwrap());
                    }
                    (
                        StatusCode::from_u16(reply.status).unwrap(),
                        h,
                        reply
                            .body
                            .clone()
                            .unwrap_or_else(|| "receiver says hi".into()),
                    )
                        .into_response()
                }
            },
        );
        // Large deliveries are part of the tests (axum's default limit is 2 MB).
        let app = app.layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            url,
            inner,
            default,
        }
    }

    /// Replies for the next requests, in order; then the default.
    pub fn script(&self, replies: Vec<Reply>) {
        self.inner.lock().unwrap().script.extend(replies);
    }

    pub fn set_default(&self, reply: Reply) {
        *self.default.lock().unwrap() = reply;
    }

    /// Answers this percent of (unscripted) requests with 500, at random.
    pub fn set_flaky(&self, percent: u32) {
        self.inner.lock().unwrap().flaky_percent = percent;
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.inner.lock().unwrap().hits.clone()
    }

    pub fn max_in_flight(&self) -> usize {
        self.inner.lock().unwrap().max_in_flight
    }

    /// Waits until at least `n` requests arrived (or panics after `within`).
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Hit> {
        let deadline = Instant::now() + within;
        loop {
            let hits = self.hits();
            if hits.len() >= n {
                return hits;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} requests within {within:?}, got {}",
                hits.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
