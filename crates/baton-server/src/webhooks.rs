//! Sends webhooks. One thread per project follows the event log into deliveries and sends
//! the due ones; which events go where, the bodies, their signatures and what an attempt's
//! outcome means (delivered, retry later, failed) are core's ([`baton_core::board::webhooks`]).
//! Deliveries are rows, so a restart picks up where the last run stopped: at least once,
//! with the same `X-Baton-Delivery` on every attempt of one delivery.

use std::time::Duration;

use baton_core::api::{AttemptOutcome, DueDelivery, RetryPolicy};
use baton_core::Result;
use tokio::sync::watch;

use crate::workers::Workers;

/// How the server sends webhooks.
#[derive(Clone, Copy, Debug)]
pub struct WebhookOptions {
    pub retry: RetryPolicy,
    /// How long one attempt may take, connecting included.
    pub timeout: Duration,
    /// How often to look for new events and due retries when idle.
    pub poll: Duration,
}

impl Default for WebhookOptions {
    fn default() -> Self {
        WebhookOptions {
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(10),
            poll: Duration::from_millis(250),
        }
    }
}

/// Deliveries sent at once (each on its own thread, so a slow receiver holds up no other).
const BATCH: u64 = 16;
/// Events looked at per step.
const EVENTS_PER_STEP: u64 = 1_000;
/// How much of a failing answer's body is kept as its error.
const ERROR_EXCERPT: u64 = 300;

/// Starts the thread that sends `writer`'s project's webhooks until `shutdown`.
pub fn deliver(
    writer: Workers,
    options: WebhookOptions,
    shutdown: watch::Receiver<bool>,
) -> Result<()> {
    let over = move || *shutdown.borrow() || shutdown.has_changed().is_err();
    let http = client(options.timeout);
    // An attempt holds its delivery for its timeout and a margin; a server that dies
    // meanwhile leaves it to be taken again after that.
    let lease = options.timeout + Duration::from_secs(30);
    std::thread::Builder::new()
        .name("baton-webhooks".into())
        .spawn(move || loop {
            if over() {
                return;
            }
            let queued =
                writer.run_blocking(|api| api.webhooks().queue_deliveries(EVENTS_PER_STEP));
            let due = writer.run_blocking(move |api| api.webhooks().claim_deliveries(BATCH, lease));
            if over() {
                return;
            }
            if let Err(e) = queued {
                eprintln!("baton serve: webhooks: cannot queue deliveries: {e}");
            }
            let due = due.unwrap_or_else(|e| {
                eprintln!("baton serve: webhooks: cannot take due deliveries: {e}");
                Vec::new()
            });
            let busy = !due.is_empty();
            let outcomes: Vec<AttemptOutcome> = std::thread::scope(|scope| {
                let sending: Vec<_> = due.iter().map(|d| scope.spawn(|| send(&http, d))).collect();
                sending
                    .into_iter()
                    .zip(&due)
                    .map(|(s, d)| {
                        s.join().unwrap_or_else(|_| AttemptOutcome {
                            delivery: d.id,
                            attempt: d.attempt,
                            status: None,
                            error: Some("sending panicked".into()),
                        })
                    })
                    .collect()
            });
            for outcome in outcomes {
                let policy = options.retry;
                if let Err(e) =
                    writer.run_blocking(move |api| api.webhooks().finish_delivery(outcome, policy))
                {
                    eprintln!("baton serve: webhooks: cannot record a delivery: {e}");
                }
            }
            if !busy {
                let started = std::time::Instant::now();
                while started.elapsed() < options.poll && !over() {
                    std::thread::sleep(Duration::from_millis(50).min(options.poll));
                }
            }
        })
        .map(|_| ())
        .map_err(|e| baton_core::Error::Internal(format!("cannot start the webhook thread: {e}")))
}

fn client(timeout: Duration) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        // A redirect is an answer, not a new destination to POST the body to.
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .user_agent(concat!("baton-webhooks/", env!("CARGO_PKG_VERSION")))
        .build();
    ureq::Agent::new_with_config(config)
}

/// One attempt: a 2xx answer delivers; any other answer, or none, is a failure with why.
fn send(http: &ureq::Agent, d: &DueDelivery) -> AttemptOutcome {
    let answer = http
        .post(&d.url)
        .header("Content-Type", "application/json")
        .header("X-Baton-Event", &d.action)
        .header("X-Baton-Delivery", &d.uid)
        .header("X-Baton-Signature", &d.signature)
        .send(d.body.as_bytes());
    let (status, error) = match answer {
        Ok(mut response) => {
            let status = response.status().as_u16();
            if (200..300).contains(&status) {
                (Some(status), None)
            } else {
                let excerpt = response
                    .body_mut()
                    .with_config()
                    .limit(ERROR_EXCERPT)
                    .read_to_string()
                    .unwrap_or_default();
                let reason = response
                    .status()
                    .canonical_reason()
                    .unwrap_or("error status");
                let error = match excerpt.trim() {
                    "" => format!("HTTP {status} {reason}"),
                    text => format!("HTTP {status} {reason}: {text}"),
                };
                (Some(status), Some(error))
            }
        }
        Err(e) => (None, Some(e.to_string())),
    };
    AttemptOutcome {
        delivery: d.id,
        attempt: d.attempt,
        status,
        error,
    }
}
