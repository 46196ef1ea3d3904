//! Sends webhooks. One thread per project follows the event log into deliveries and sends
//! the due ones; which events go where, the bodies, their signatures and what an attempt's
//! outcome means (delivered, retry later, failed) are core's ([`baton_core::board::webhooks`]).
//! Deliveries are rows, so a restart picks up where the last run stopped: at least once,
//! with the same `X-Baton-Delivery` on every attempt of one delivery.

use std::net::IpAddr;
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
    /// Whether webhooks may reach loopback, private, link-local and other non-public
    /// addresses. A team-mode server refuses them unless told otherwise: whoever may add a
    /// webhook could otherwise make the server call services inside its network and read
    /// the start of their answers in the delivery's error.
    pub private_hosts: bool,
}

impl Default for WebhookOptions {
    fn default() -> Self {
        WebhookOptions {
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(10),
            poll: Duration::from_millis(250),
            private_hosts: true,
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
    let http = client(options.timeout, options.private_hosts);
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

fn client(timeout: Duration, private_hosts: bool) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        // A redirect is an answer, not a new destination to POST the body to.
        .max_redirects(0)
        // No proxy from the environment: it would connect on the server's behalf to any
        // address, out of the resolver's sight.
        .proxy(None)
        .timeout_global(Some(timeout))
        .user_agent(concat!("baton-webhooks/", env!("CARGO_PKG_VERSION")))
        .build();
    if private_hosts {
        return ureq::Agent::new_with_config(config);
    }
    ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::new(),
        PublicOnly::default(),
    )
}

/// Whether `ip` is an address on the public internet: not loopback, private (RFC 1918,
/// unique local), link-local (cloud metadata services live there), shared (carrier-grade
/// NAT), unspecified, broadcast, multicast, documentation or benchmark ranges, nor an IPv6
/// form of one of those.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8
                || (first == 0 && v6.segments()[..6].iter().all(|s| *s == 0)))
        }
    }
}

/// Resolves as ureq does, then keeps only public addresses: the check is made on the
/// addresses connected to, so a name that points inside the network (or is made to, after
/// a first lookup) is refused too.
#[derive(Debug, Default)]
struct PublicOnly(ureq::unversioned::resolver::DefaultResolver);

impl ureq::unversioned::resolver::Resolver for PublicOnly {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let all = self.0.resolve(uri, config, timeout)?;
        let mut public = self.empty();
        let mut refused = Vec::new();
        for addr in &all {
            if is_public(addr.ip()) {
                public.push(*addr);
            } else if !refused.contains(&addr.ip()) {
                refused.push(addr.ip());
            }
        }
        if public.is_empty() {
            let list: Vec<String> = refused.iter().map(IpAddr::to_string).collect();
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "refused: {} is not a public address; a team-mode server sends webhooks \
                     only to public addresses (start it with --webhook-private-hosts to allow \
                     others)",
                    list.join(", ")
                ),
            )));
        }
        Ok(public)
    }
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

#[cfg(test)]
mod tests {
    use super::is_public;

    #[test]
    fn only_addresses_on_the_public_internet_are_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
