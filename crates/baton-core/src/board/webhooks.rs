//! Webhooks: the rules of configuring them (URLs, event patterns, secrets), following the
//! event log into delivery rows, and what an attempt's outcome does to its delivery
//! (delivered, retried with backoff, failed). The server sends; everything it decides is
//! here, in one place for every store.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

use super::{event, validate};
use crate::api::{
    AttemptOutcome, CreatedWebhook, Delivery, DeliveryQuery, DeliveryStatus, DueDelivery,
    NewWebhook, RetryPolicy, Webhook,
};
use crate::auth;
use crate::error::{Error, Result};
use crate::id::WebhookId;
use crate::model::actions;
use crate::sql::{list_value, load_by_id, query_map, Filter, Row, Sql};
use crate::store::{EventQuery, StoreTx};
use crate::time::Timestamp;

const MAX_URL: usize = 2_000;
const MAX_PATTERNS: usize = 100;
const MAX_PATTERN: usize = 100;
const MIN_SECRET: usize = 16;
const MAX_SECRET: usize = 512;
/// How much of a failed answer's reason is kept.
const MAX_ERROR: usize = 500;
const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 1_000;

/// Whether `pattern` selects `action`, as the event log's filter does: an exact action, or
/// a prefix ending in `.` or `*` (`task.` and `task.*` select every task event; `*` all).
pub fn action_matches(pattern: &str, action: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => action.starts_with(prefix),
        None if pattern.ends_with('.') => action.starts_with(pattern),
        None => action == pattern,
    }
}

/// `sha256=<hex HMAC-SHA256 of body keyed with secret>`: what `X-Baton-Signature` carries.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.update(body);
    format!("sha256={}", auth::hex(&mac.finalize().into_bytes()))
}

fn check_url(url: &str) -> Result<String> {
    let url = url.trim();
    let hint =
        "give a full http:// or https:// URL, for example https://ci.example.com/hooks/baton";
    let rest = url
        .get(..8)
        .filter(|s| s.eq_ignore_ascii_case("https://"))
        .map(|_| &url[8..])
        .or_else(|| {
            url.get(..7)
                .filter(|s| s.eq_ignore_ascii_case("http://"))
                .map(|_| &url[7..])
        });
    let Some(rest) = rest else {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        let message = if scheme.is_empty() || scheme.contains('/') {
            format!("{url:?} is not a URL a webhook can be sent to")
        } else {
            format!("a webhook URL must be http or https, not {scheme}")
        };
        return Err(Error::invalid_with_hint(message, hint));
    };
    if url.len() > MAX_URL {
        return Err(Error::invalid_with_hint(
            "a webhook URL takes up to 2,000 bytes",
            hint,
        ));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid_with_hint(
            "a webhook URL cannot hold spaces or control characters",
            "percent-encode them (%20)",
        ));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    let host_name = if host.starts_with('[') {
        host.split(']').next().map(|h| &h[1..]).unwrap_or("")
    } else {
        host.split(':').next().unwrap_or("")
    };
    if host_name.is_empty() {
        return Err(Error::invalid_with_hint(
            format!("the webhook URL {url:?} names no host"),
            hint,
        ));
    }
    Ok(url.to_string())
}

/// A URL as events show it (every role reads events, and a URL may carry a credential):
/// without user information, query or fragment.
pub fn shown_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority.rsplit('@').next().unwrap_or(authority);
    format!("{scheme}://{host}{path}")
}

/// Every action an event may have (agents' log entries aside: `log.KIND`, any kind).
fn known_actions() -> impl Iterator<Item = &'static str> {
    actions::ALL
        .iter()
        .chain(super::instance::actions::ALL)
        .copied()
}

/// Refuses a pattern that no event could ever match (a typo would make a webhook that
/// never fires), naming the nearest action and the families there are.
fn selects_some_action(pattern: &str) -> Result<()> {
    if pattern == "*" || pattern.starts_with("log.") || pattern == "log*" {
        return Ok(());
    }
    let prefix = pattern
        .strip_suffix('*')
        .or_else(|| pattern.ends_with('.').then_some(pattern));
    let matched = match prefix {
        Some(prefix) => known_actions().any(|a| a.starts_with(prefix)),
        None => known_actions().any(|a| a == pattern),
    };
    if matched {
        return Ok(());
    }
    let all: Vec<&str> = known_actions().collect();
    let mut families: Vec<&str> = all
        .iter()
        .filter_map(|a| a.split_once('.').map(|(family, _)| family))
        .collect();
    families.sort_unstable();
    families.dedup();
    // A prefix is compared with the families' (task.*), an action with the actions.
    let prefixes: Vec<String> = families.iter().map(|f| format!("{f}.*")).collect();
    let prefixes: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    let candidates = if prefix.is_some() { &prefixes } else { &all };
    let wanted = match prefix {
        Some(p) => format!("{}*", p.trim_end_matches('.').to_string() + "."),
        None => pattern.to_string(),
    };
    let nearest = crate::api::batch::closest(&wanted, candidates)
        .map(|a| format!("; did you mean {a}?"))
        .unwrap_or_default();
    Err(Error::invalid_with_hint(
        format!("{pattern:?} selects no event: no action is named so{nearest}"),
        format!(
            "actions are FAMILY.NAME (task.done, task.approved, message.asked, \
             reservation.violated, ...; `baton events` shows them); families: {}.*; \
             agents' log entries are log.KIND",
            families.join(".*, ")
        ),
    ))
}

fn check_patterns(events: &[String]) -> Result<Vec<String>> {
    let hint = "name actions (task.done,message.asked) or prefixes (task.*); `*` is every event";
    let mut out: Vec<String> = Vec::new();
    for pattern in events.iter().flat_map(|e| e.split(',')) {
        let pattern = pattern.trim();
        if pattern.is_empty() {
            continue;
        }
        let body = pattern.strip_suffix('*').unwrap_or(pattern);
        let fine = pattern.len() <= MAX_PATTERN
            && body.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            })
            && !body.starts_with('.')
            && !body.contains("..");
        if !fine {
            return Err(Error::invalid_with_hint(
                format!("{pattern:?} is not an event action or prefix"),
                hint,
            ));
        }
        selects_some_action(pattern)?;
        if !out.iter().any(|p| p == pattern) {
            out.push(pattern.to_string());
        }
    }
    if out.is_empty() {
        return Err(Error::invalid_with_hint(
            "a webhook needs the events it is sent",
            hint,
        ));
    }
    if out.len() > MAX_PATTERNS {
        return Err(Error::invalid_with_hint(
            "a webhook takes up to 100 event patterns",
            "use prefixes (task.*) to select many actions",
        ));
    }
    Ok(out)
}

fn check_secret(secret: Option<&str>) -> Result<(String, bool)> {
    match secret {
        None => Ok((
            format!("whsec_{}", auth::hex(&auth::random_bytes(32))),
            true,
        )),
        Some(s) => {
            let s = s.trim();
            if s.len() < MIN_SECRET || s.len() > MAX_SECRET {
                // Never echo the secret, not even its length.
                return Err(Error::invalid_with_hint(
                    "a webhook secret takes 16 to 512 bytes",
                    "use a long random value (openssl rand -hex 32), or leave it out to have one generated",
                ));
            }
            Ok((s.to_string(), false))
        }
    }
}

const WEBHOOK_COLUMNS: &str = "w.id, w.url, w.events, w.created_by, w.created_at, \
    (SELECT count(*) FROM webhook_deliveries d WHERE d.webhook = w.id AND d.status = 'pending'), \
    (SELECT count(*) FROM webhook_deliveries d WHERE d.webhook = w.id AND d.status = 'delivered'), \
    (SELECT count(*) FROM webhook_deliveries d WHERE d.webhook = w.id AND d.status = 'failed'), \
    (SELECT d.last_error FROM webhook_deliveries d WHERE d.webhook = w.id \
        AND d.last_error IS NOT NULL ORDER BY d.last_error_at DESC, d.id DESC LIMIT 1), \
    (SELECT max(d.last_error_at) FROM webhook_deliveries d WHERE d.webhook = w.id)";

fn webhook_from_row(r: &Row<'_>) -> Result<Webhook> {
    Ok(Webhook {
        id: WebhookId(r.uint(0)?),
        url: r.text(1)?,
        events: r.list(2)?,
        created_by: r.text(3)?,
        created_at: r.ts(4)?,
        pending: r.uint(5)?,
        delivered: r.uint(6)?,
        failed: r.uint(7)?,
        last_error: r.opt_text(8)?,
        last_error_at: r.opt_ts(9)?,
    })
}

/// A webhook that is not removed.
pub fn load(db: &mut dyn Sql, id: WebhookId) -> Result<Webhook> {
    load_by_id(
        db,
        "webhook",
        &format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks w WHERE w.id = ?1 AND w.removed_at IS NULL"
        ),
        id.number(),
        "list webhooks with `baton webhook list`",
        webhook_from_row,
        id,
    )
}

const DELIVERY_COLUMNS: &str = "id, uid, webhook, event, action, status, attempts, \
    next_attempt_at, last_status, last_error, created_at, delivered_at";

fn delivery_from_row(r: &Row<'_>) -> Result<Delivery> {
    let status = r.text(5)?;
    Ok(Delivery {
        id: r.uint(0)?,
        uid: r.text(1)?,
        webhook: WebhookId(r.uint(2)?),
        event: r.uint(3)?,
        action: r.text(4)?,
        status: DeliveryStatus::parse(&status).ok_or_else(|| {
            Error::Internal(format!(
                "a webhook delivery has the unknown status {status}"
            ))
        })?,
        attempts: r.uint(6)?.min(u32::MAX as u64) as u32,
        next_attempt_at: r.opt_ts(7)?,
        last_status: r.opt_uint(8)?.map(|s| s.min(u16::MAX as u64) as u16),
        last_error: r.opt_text(9)?,
        created_at: r.ts(10)?,
        delivered_at: r.opt_ts(11)?,
    })
}

fn load_delivery(db: &mut dyn Sql, id: u64) -> Result<Delivery> {
    load_by_id(
        db,
        "webhook delivery",
        &format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = ?1"),
        id,
        "list deliveries with `baton webhook deliveries`",
        delivery_from_row,
        id,
    )
}

fn last_event_id(db: &mut dyn Sql) -> Result<u64> {
    let rows = db.query("SELECT coalesce(max(id), 0) FROM events", &[])?;
    rows.first()
        .map(|r| Row::new(r, "events").uint(0))
        .transpose()
        .map(|n| n.unwrap_or(0))
}

pub fn add(
    tx: &mut dyn StoreTx,
    actor: &str,
    new: &NewWebhook,
    now: Timestamp,
) -> Result<CreatedWebhook> {
    let url = check_url(&new.url)?;
    let events = check_patterns(&new.events)?;
    let (secret, generated) = check_secret(new.secret.as_deref())?;
    let rows = tx.sql().query(
        "INSERT INTO webhooks (url, events, secret, cursor, created_by, created_at) \
         VALUES (?1, ?2, ?3, 0, ?4, ?5) RETURNING id",
        &[
            url.as_str().into(),
            list_value(&events),
            secret.as_str().into(),
            actor.into(),
            now.into(),
        ],
    )?;
    let id = WebhookId(
        rows.first()
            .ok_or_else(|| Error::Internal("a new webhook's id did not come back".into()))
            .and_then(|r| Row::new(r, "webhook").uint(0))?,
    );
    // The secret is no part of the record.
    let added = event(
        tx,
        now,
        actor,
        actions::WEBHOOK_ADDED,
        None,
        json!({ "webhook": id, "url": shown_url(&url), "events": events }),
    )?;
    // It hears of what happens after its addition.
    tx.sql().execute(
        "UPDATE webhooks SET cursor = ?2 WHERE id = ?1",
        &[id.number().into(), added.into()],
    )?;
    Ok(CreatedWebhook {
        webhook: load(tx.sql(), id)?,
        secret: generated.then_some(secret),
    })
}

pub fn list(db: &mut dyn Sql) -> Result<Vec<Webhook>> {
    query_map(
        db,
        "webhook",
        &format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks w WHERE w.removed_at IS NULL ORDER BY w.id"
        ),
        &[],
        webhook_from_row,
    )
}

pub fn remove(tx: &mut dyn StoreTx, actor: &str, id: WebhookId, now: Timestamp) -> Result<Webhook> {
    let hook = load(tx.sql(), id)?;
    // The secret goes with it: nothing is signed for a removed webhook.
    tx.sql().execute(
        "UPDATE webhooks SET removed_at = ?2, removed_by = ?3, secret = NULL WHERE id = ?1",
        &[id.number().into(), now.into(), actor.into()],
    )?;
    tx.sql().execute(
        "UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, \
         last_error = 'the webhook was removed', last_error_at = ?2 \
         WHERE webhook = ?1 AND status = 'pending'",
        &[id.number().into(), now.into()],
    )?;
    event(
        tx,
        now,
        actor,
        actions::WEBHOOK_REMOVED,
        None,
        json!({ "webhook": id, "url": shown_url(&hook.url) }),
    )?;
    Ok(hook)
}

fn insert_delivery(
    db: &mut dyn Sql,
    webhook: WebhookId,
    event: u64,
    action: &str,
    now: Timestamp,
) -> Result<u64> {
    db.execute(
        "INSERT INTO webhook_deliveries (uid, webhook, event, action, status, next_attempt_at, \
         created_at) VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5) \
         ON CONFLICT (webhook, event) DO NOTHING",
        &[
            auth::hex(&auth::random_bytes(16)).into(),
            webhook.number().into(),
            event.into(),
            action.into(),
            now.into(),
        ],
    )
}

pub fn test(tx: &mut dyn StoreTx, actor: &str, id: WebhookId, now: Timestamp) -> Result<Delivery> {
    let hook = load(tx.sql(), id)?;
    let ping = event(
        tx,
        now,
        actor,
        actions::WEBHOOK_PING,
        None,
        json!({ "webhook": id, "url": shown_url(&hook.url) }),
    )?;
    insert_delivery(tx.sql(), id, ping, actions::WEBHOOK_PING, now)?;
    let rows = query_map(
        tx.sql(),
        "webhook delivery",
        &format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook = ?1 AND event = ?2"
        ),
        &[id.number().into(), ping.into()],
        delivery_from_row,
    )?;
    rows.into_iter()
        .next()
        .ok_or_else(|| Error::Internal("the ping's delivery was not recorded".into()))
}

pub fn deliveries(db: &mut dyn Sql, q: &DeliveryQuery) -> Result<Vec<Delivery>> {
    let mut filter = Filter::default();
    if let Some(webhook) = q.webhook {
        filter.and("webhook = ?", webhook.number());
    }
    if let Some(status) = q.status {
        filter.and("status = ?", status.as_str());
    }
    let limit = filter.push(q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT));
    query_map(
        db,
        "webhook delivery",
        &format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries{} ORDER BY id DESC LIMIT {limit}",
            filter.where_clause()
        ),
        &filter.params,
        delivery_from_row,
    )
}

struct Follower {
    id: WebhookId,
    events: Vec<String>,
    cursor: u64,
}

fn followers(db: &mut dyn Sql) -> Result<Vec<Follower>> {
    query_map(
        db,
        "webhook",
        "SELECT id, events, cursor FROM webhooks WHERE removed_at IS NULL ORDER BY id",
        &[],
        |r| {
            Ok(Follower {
                id: WebhookId(r.uint(0)?),
                events: r.list(1)?,
                cursor: r.uint(2)?,
            })
        },
    )
}

/// Whether [`queue`] has anything to do: some webhook is behind the log.
pub fn behind(db: &mut dyn Sql) -> Result<bool> {
    let last = last_event_id(db)?;
    Ok(followers(db)?.iter().any(|f| f.cursor < last))
}

/// Queues deliveries for the events after each webhook's cursor (at most `limit` events),
/// and moves the cursors past them, in one transaction: each event reaches each webhook
/// once. A ping is queued by [`test`] for its webhook alone.
pub fn queue(tx: &mut dyn StoreTx, limit: u64, now: Timestamp) -> Result<u64> {
    let hooks = followers(tx.sql())?;
    let Some(from) = hooks.iter().map(|h| h.cursor).min() else {
        return Ok(0);
    };
    let events = tx.events(&EventQuery {
        after_id: Some(from),
        limit: Some(limit.max(1)),
        ..EventQuery::default()
    })?;
    let Some(through) = events.last().map(|e| e.id) else {
        return Ok(0);
    };
    let mut queued = 0;
    for hook in &hooks {
        if hook.cursor >= through {
            continue;
        }
        for e in events.iter().filter(|e| e.id > hook.cursor) {
            if e.action != actions::WEBHOOK_PING
                && hook.events.iter().any(|p| action_matches(p, &e.action))
            {
                queued += insert_delivery(tx.sql(), hook.id, e.id, &e.action, now)?;
            }
        }
        tx.sql().execute(
            "UPDATE webhooks SET cursor = ?2 WHERE id = ?1 AND cursor < ?2",
            &[hook.id.number().into(), through.into()],
        )?;
    }
    Ok(queued)
}

/// Whether [`claim`] would find a delivery due.
pub fn due(db: &mut dyn Sql, now: Timestamp) -> Result<bool> {
    Ok(!db
        .query(
            "SELECT 1 FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ?1 \
             LIMIT 1",
            &[now.into()],
        )?
        .is_empty())
}

/// Takes the due deliveries (oldest due first), counts an attempt for each and leases it
/// for `lease`; builds and signs each body.
pub fn claim(
    tx: &mut dyn StoreTx,
    limit: u64,
    lease: std::time::Duration,
    now: Timestamp,
) -> Result<Vec<DueDelivery>> {
    struct Row_ {
        delivery: Delivery,
        url: String,
        secret: Option<String>,
    }
    let rows = query_map(
        tx.sql(),
        "webhook delivery",
        "SELECT d.id, w.url, w.secret FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook \
         WHERE d.status = 'pending' AND d.next_attempt_at <= ?1 AND w.removed_at IS NULL \
         ORDER BY d.next_attempt_at, d.id LIMIT ?2",
        &[now.into(), limit.clamp(1, MAX_LIMIT).into()],
        |r| Ok((r.uint(0)?, r.text(1)?, r.opt_text(2)?)),
    )?;
    let mut taken = Vec::new();
    for (id, url, secret) in rows {
        // Another server may have taken it since (PostgreSQL, several replicas).
        let changed = tx.sql().execute(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?2 \
             WHERE id = ?1 AND status = 'pending' AND next_attempt_at <= ?3",
            &[id.into(), now.plus(lease).into(), now.into()],
        )?;
        if changed == 1 {
            taken.push(Row_ {
                delivery: load_delivery(tx.sql(), id)?,
                url,
                secret,
            });
        }
    }
    if taken.is_empty() {
        return Ok(Vec::new());
    }
    let project = tx.project()?.name;
    let mut due = Vec::new();
    for Row_ {
        delivery,
        url,
        secret,
    } in taken
    {
        let found = tx.events(&EventQuery {
            after_id: Some(delivery.event.saturating_sub(1)),
            limit: Some(1),
            ..EventQuery::default()
        })?;
        let (Some(event), Some(secret)) =
            (found.into_iter().find(|e| e.id == delivery.event), secret)
        else {
            give_up(
                tx.sql(),
                delivery.id,
                "the event is no longer in the log (log_retention deleted it)",
                now,
            )?;
            continue;
        };
        let body = json!({
            "id": delivery.uid,
            "event": event,
            "project": project,
            "sent_at": now,
        })
        .to_string();
        due.push(DueDelivery {
            id: delivery.id,
            uid: delivery.uid,
            attempt: delivery.attempts,
            webhook: delivery.webhook,
            url,
            action: delivery.action,
            signature: signature(secret.as_bytes(), body.as_bytes()),
            body,
        });
    }
    Ok(due)
}

fn give_up(db: &mut dyn Sql, id: u64, why: &str, now: Timestamp) -> Result<()> {
    db.execute(
        "UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, \
         last_error = ?2, last_error_at = ?3 WHERE id = ?1",
        &[id.into(), why.into(), now.into()],
    )?;
    Ok(())
}

fn cut(text: &str) -> String {
    let text = text.trim();
    if text.len() <= MAX_ERROR {
        return text.to_string();
    }
    let mut end = MAX_ERROR;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

/// Applies an attempt's outcome: a 2xx answer delivers; anything else retries after the
/// policy's backoff, or fails the delivery once its attempts are used up. An outcome of an
/// attempt that is no longer the delivery's latest changes nothing.
pub fn finish(
    db: &mut dyn Sql,
    outcome: &AttemptOutcome,
    policy: RetryPolicy,
    now: Timestamp,
) -> Result<Delivery> {
    let delivery = load_delivery(db, outcome.delivery)?;
    if delivery.status != DeliveryStatus::Pending || delivery.attempts != outcome.attempt {
        return Ok(delivery);
    }
    let status = outcome.status.map(u64::from);
    if outcome.status.is_some_and(|s| (200..300).contains(&s)) {
        db.execute(
            "UPDATE webhook_deliveries SET status = 'delivered', delivered_at = ?2, \
             next_attempt_at = NULL, last_status = ?3 WHERE id = ?1",
            &[delivery.id.into(), now.into(), status.into()],
        )?;
        return load_delivery(db, delivery.id);
    }
    let fallback = match outcome.status {
        Some(_) => "the receiver answered with an error status",
        None => "no answer",
    };
    let error = cut(outcome.error.as_deref().unwrap_or(fallback));
    let error = match outcome.status {
        Some(s) if !error.contains(&s.to_string()) => format!("HTTP {s}: {error}"),
        _ => error,
    };
    let last = delivery.attempts >= policy.attempts;
    db.execute(
        "UPDATE webhook_deliveries SET status = ?2, next_attempt_at = ?3, last_status = ?4, \
         last_error = ?5, last_error_at = ?6 WHERE id = ?1",
        &[
            delivery.id.into(),
            if last { "failed" } else { "pending" }.into(),
            (!last)
                .then(|| now.plus(policy.backoff(delivery.attempts)))
                .into(),
            status.into(),
            error.into(),
            now.into(),
        ],
    )?;
    load_delivery(db, delivery.id)
}

impl<S: crate::store::Store> crate::api::Webhooks for super::Board<S> {
    fn add_webhook(&self, actor: &str, new: NewWebhook) -> Result<CreatedWebhook> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| add(tx, actor, &new, now))
    }

    fn list_webhooks(&self) -> Result<Vec<Webhook>> {
        self.read(|tx, _| list(tx.sql()))
    }

    fn remove_webhook(&self, actor: &str, id: WebhookId) -> Result<Webhook> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| remove(tx, actor, id, now))
    }

    fn test_webhook(&self, actor: &str, id: WebhookId) -> Result<Delivery> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| test(tx, actor, id, now))
    }

    fn deliveries(&self, query: &DeliveryQuery) -> Result<Vec<Delivery>> {
        self.read(|tx, _| deliveries(tx.sql(), query))
    }

    fn queue_deliveries(&self, limit: u64) -> Result<u64> {
        // A read first, so that an idle server does not write.
        if !self.read(|tx, _| behind(tx.sql()))? {
            return Ok(0);
        }
        self.write(super::SYSTEM, |tx, now| queue(tx, limit, now))
    }

    fn claim_deliveries(&self, limit: u64, lease: std::time::Duration) -> Result<Vec<DueDelivery>> {
        if !self.read(|tx, now| due(tx.sql(), now))? {
            return Ok(Vec::new());
        }
        self.write(super::SYSTEM, |tx, now| claim(tx, limit, lease, now))
    }

    fn finish_delivery(&self, outcome: AttemptOutcome, policy: RetryPolicy) -> Result<Delivery> {
        self.write(super::SYSTEM, |tx, now| {
            finish(tx.sql(), &outcome, policy, now)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_that_selects_no_event_is_refused_with_the_nearest_action() {
        for fine in [
            "*",
            "task.done",
            "task.*",
            "task.",
            "message.*",
            "merge.*",
            "auth.login",
            "log.build",
            "log.*",
            "webhook.ping",
            "t*",
        ] {
            assert!(check_patterns(&[fine.to_string()]).is_ok(), "{fine}");
        }
        let e = check_patterns(&["task.approve".into()]).unwrap_err();
        assert!(e.to_string().contains("did you mean task.approved?"), "{e}");
        let e = check_patterns(&["task.done,tsk.*".into()]).unwrap_err();
        assert!(e.to_string().contains("\"tsk.*\" selects no event"), "{e}");
        assert!(e.to_string().contains("did you mean task.*?"), "{e}");
        let hint = e.hint().unwrap_or_default().to_string();
        assert!(
            hint.contains("task.*") && hint.contains("log.KIND"),
            "{hint}"
        );
    }

    /// `actions::ALL` is what webhooks are checked against: every action constant is in it.
    #[test]
    fn every_action_constant_is_listed_in_all() {
        for (source, all) in [
            (include_str!("../model.rs"), actions::ALL),
            (
                include_str!("instance.rs"),
                super::super::instance::actions::ALL,
            ),
        ] {
            let module = &source[source.find("pub mod actions {").unwrap()..];
            let module = &module[..module.find("\n}\n").unwrap()];
            let declared = module
                .lines()
                .filter(|l| l.trim_start().starts_with("pub const ") && l.contains(": &str ="))
                .count();
            assert_eq!(declared, all.len());
        }
    }

    #[test]
    fn patterns_match_as_the_event_filter_does() {
        assert!(action_matches("task.done", "task.done"));
        assert!(!action_matches("task.done", "task.done_late"));
        assert!(action_matches("task.*", "task.rejected"));
        assert!(action_matches("task.", "task.rejected"));
        assert!(!action_matches("task.*", "tasks.rejected"));
        assert!(action_matches("*", "message.asked"));
        assert!(!action_matches("message.asked", "message.answered"));
    }

    #[test]
    fn signatures_are_hmac_sha256_of_the_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn urls_must_be_http_or_https_with_a_host() {
        assert!(check_url("https://ci.example.com/hooks").is_ok());
        assert!(check_url("HTTP://127.0.0.1:8080/x?y=1").is_ok());
        assert!(check_url("http://[::1]:9/").is_ok());
        for bad in [
            "ftp://example.com/x",
            "file:///etc/passwd",
            "example.com/hook",
            "https://",
            "http:///path",
            "https://exa mple.com/",
            "",
        ] {
            assert!(check_url(bad).is_err(), "{bad:?} should be refused");
        }
        let e = check_url("ftp://example.com").unwrap_err().to_string();
        assert!(e.contains("http or https, not ftp"), "{e}");
    }

    #[test]
    fn events_show_urls_without_credentials() {
        assert_eq!(
            shown_url("https://bot:pw@ci.example.com:8443/hooks/b?token=abc#x"),
            "https://ci.example.com:8443/hooks/b"
        );
        assert_eq!(shown_url("http://127.0.0.1:9"), "http://127.0.0.1:9");
    }

    #[test]
    fn patterns_are_checked_split_and_kept_once() {
        assert_eq!(
            check_patterns(&["task.done, task.*".into(), "task.done".into()]).unwrap(),
            vec!["task.done", "task.*"]
        );
        for bad in ["Task.Done", "task.*.x", "ta sk", ".task", "task..done"] {
            assert!(check_patterns(&[bad.into()]).is_err(), "{bad}");
        }
        assert!(check_patterns(&[" , ".into()]).is_err());
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let p = RetryPolicy {
            attempts: 5,
            base: std::time::Duration::from_secs(1),
            cap: std::time::Duration::from_secs(5),
        };
        let waits: Vec<u64> = (1..=5).map(|n| p.backoff(n).as_secs()).collect();
        assert_eq!(waits, vec![1, 2, 4, 5, 5]);
        assert_eq!(p.backoff(200).as_secs(), 5);
    }

    #[test]
    fn secrets_are_never_printed_in_debug() {
        let new = NewWebhook {
            url: "https://x.example".into(),
            events: vec!["*".into()],
            secret: Some("very-secret-value-123".into()),
        };
        assert!(!format!("{new:?}").contains("very-secret"));
        let e = check_secret(Some("short")).unwrap_err().to_string();
        assert!(!e.contains("short"), "{e}");
    }
}
