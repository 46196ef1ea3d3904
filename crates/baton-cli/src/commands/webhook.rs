//! `baton webhook`: URLs the server POSTs chosen events to, signed, retried with backoff.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use baton_core::api::{Delivery, DeliveryQuery, DeliveryStatus, NewWebhook, Webhook};
use baton_core::{ErrorClass, WebhookId};
use clap::{Args, Subcommand, ValueEnum};

use super::Context;
use crate::error::{CliError, CliResult};
use crate::output::{cut, or_dash, Table};

const ABOUT_DELIVERY: &str = "\
How a webhook is sent (by `baton serve`, in the background):
  POST URL with Content-Type: application/json and the body
    {\"id\": DELIVERY, \"event\": {id, at, actor, action, task, detail, session},
     \"project\": NAME, \"sent_at\": TIME}
  X-Baton-Event:      the event's action (task.done; webhook.ping for a test)
  X-Baton-Delivery:   the delivery's id, the same on every attempt (drop repeats by it)
  X-Baton-Signature:  sha256=<hex HMAC-SHA256 of the raw body, keyed with the secret>
Check the signature on the exact bytes received, with a constant-time comparison.
A 2xx answer delivers; anything else (or no answer within 10 s) is retried after 1 s,
2 s, 4 s ... (at most 10 min apart), 10 attempts in all, then the delivery is failed
with its last error (`baton webhook list`, `baton webhook deliveries`). Redirects are not
followed. Deliveries are stored rows: a server restart loses none (at least once).
`baton serve --webhook-retry`, `--webhook-attempts` and `--webhook-timeout` tune this.
A project other than the default one is sent for once the server has opened it (its
first request since the server started).

Managing webhooks takes the maintainer role in team mode.";

#[derive(Subcommand, Debug)]
#[command(after_help = ABOUT_DELIVERY)]
pub enum WebhookCommand {
    /// Add a webhook: the server POSTs the events it selects (from now on) to URL.
    #[command(after_help = format!("{}\n\n{ABOUT_DELIVERY}", actions_help()))]
    Add(AddArgs),
    /// The webhooks with counts of pending, delivered and failed deliveries and the last
    /// error. Secrets are never shown.
    List,
    /// Remove a webhook: nothing more is sent to it, its pending deliveries fail.
    Remove {
        /// The webhook (WH-1).
        id: WebhookId,
    },
    /// Send a `webhook.ping` event to this webhook alone and wait for the server's first
    /// attempt (needs `baton serve` running for the project).
    Test(TestArgs),
    /// Deliveries, newest first: event, status, attempts, next attempt, last error.
    Deliveries(DeliveriesArgs),
}

/// The actions a webhook may select, for `webhook add --help`.
fn actions_help() -> String {
    let mut all: Vec<&str> = baton_core::model::actions::ALL
        .iter()
        .chain(baton_core::board::instance::actions::ALL)
        .copied()
        .collect();
    all.sort_unstable();
    format!(
        "Event actions: {}; and log.KIND for agents' log entries. A pattern that selects no \
         event is refused.",
        all.join(", ")
    )
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// Where to POST: an http:// or https:// URL.
    pub url: String,
    /// Which events, comma-separated: actions (task.done, task.rejected, message.asked)
    /// or prefixes ending in `.` or `*` (task.*); `*` is every event. The same patterns
    /// `baton events --action` takes.
    #[arg(long, value_delimiter = ',', required = true)]
    pub events: Vec<String>,
    /// Read the signing secret (16 to 512 bytes) from this file (`-`: standard input).
    /// Without it a secret is generated and printed this once.
    #[arg(long, value_name = "FILE")]
    pub secret_file: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct TestArgs {
    /// The webhook (WH-1).
    pub id: WebhookId,
    /// How long to wait for the server's first attempt (0: queue it and return).
    #[arg(long, default_value = "15s", value_parser = duration)]
    pub wait: Duration,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum StatusArg {
    Pending,
    Delivered,
    Failed,
}

#[derive(Args, Debug)]
pub struct DeliveriesArgs {
    /// Only this webhook's (WH-3).
    pub webhook: Option<WebhookId>,
    #[arg(long)]
    pub status: Option<StatusArg>,
    /// The most deliveries to show, newest first.
    #[arg(long, short = 'n', default_value_t = 50,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub limit: u64,
}

fn duration(text: &str) -> Result<Duration, String> {
    baton_core::time::parse_duration(text)
        .ok_or_else(|| format!("{text:?} is not a duration (15s, 2m, 500ms)"))
}

pub fn webhook(ctx: &Context, command: WebhookCommand) -> CliResult {
    match command {
        WebhookCommand::Add(args) => add(ctx, args),
        WebhookCommand::List => {
            let hooks = ctx.api()?.webhooks().list_webhooks()?;
            ctx.out.emit(&hooks, |w| webhook_table(w, &hooks))
        }
        WebhookCommand::Remove { id } => {
            let removed = ctx.api()?.webhooks().remove_webhook(&ctx.actor(), id)?;
            ctx.out.emit(&removed, |w| {
                writeln!(w, "Removed {} ({})", removed.id, removed.url)
            })
        }
        WebhookCommand::Test(args) => test(ctx, args),
        WebhookCommand::Deliveries(args) => {
            let deliveries = ctx.api()?.webhooks().deliveries(&DeliveryQuery {
                webhook: args.webhook,
                status: args.status.map(|s| match s {
                    StatusArg::Pending => DeliveryStatus::Pending,
                    StatusArg::Delivered => DeliveryStatus::Delivered,
                    StatusArg::Failed => DeliveryStatus::Failed,
                }),
                limit: Some(args.limit),
            })?;
            ctx.out
                .emit(&deliveries, |w| delivery_table(w, &deliveries))
        }
    }
}

fn read_secret(path: &PathBuf) -> CliResult<String> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(path).map_err(|e| {
            CliError::new(
                ErrorClass::Invalid,
                "invalid_input",
                format!("cannot read the secret file {}: {e}", path.display()),
            )
            .with_hint("give a file holding only the secret, or leave --secret-file out")
        })?
    };
    Ok(text.trim_end_matches(['\r', '\n']).to_string())
}

fn add(ctx: &Context, args: AddArgs) -> CliResult {
    let secret = args.secret_file.as_ref().map(read_secret).transpose()?;
    let created = ctx.api()?.webhooks().add_webhook(
        &ctx.actor(),
        NewWebhook {
            url: args.url,
            events: args.events,
            secret,
        },
    )?;
    let hook = &created.webhook;
    ctx.out.emit(&created, |w| {
        writeln!(
            w,
            "Added {}: POST {} on {}",
            hook.id,
            hook.url,
            hook.events.join(", ")
        )?;
        if let Some(secret) = &created.secret {
            writeln!(
                w,
                "Signing secret (shown this once; keep it where the receiver checks signatures):"
            )?;
            writeln!(w, "  {secret}")?;
        }
        writeln!(
            w,
            "`baton serve` sends the deliveries; try it with `baton webhook test {}`.",
            hook.id
        )
    })
}

fn test(ctx: &Context, args: TestArgs) -> CliResult {
    let api = ctx.api()?;
    let queued = api.webhooks().test_webhook(&ctx.actor(), args.id)?;
    // A project file with no server of this machine's: nothing can send it, so say so now
    // rather than after the whole wait.
    let local = ctx.direct_database_url().is_none() && ctx.server_url()?.is_none();
    if local && !args.wait.is_zero() {
        if let Ok(project) = ctx.project() {
            if super::serve::running(&project).is_err() {
                return Err(CliError::new(
                    ErrorClass::Unavailable,
                    "webhook_not_sent",
                    format!(
                        "no `baton serve` runs for this project: the ping to {} is queued \
                         (delivery {}) and goes out when one starts",
                        args.id, queued.id
                    ),
                )
                .with_hint("webhooks are sent by `baton serve`: start it (`baton server start`)"));
            }
        }
    }
    let started = Instant::now();
    let mut delivery = queued.clone();
    while delivery.status == DeliveryStatus::Pending
        && delivery.last_error.is_none()
        && started.elapsed() < args.wait
    {
        std::thread::sleep(Duration::from_millis(200));
        delivery = api
            .webhooks()
            .deliveries(&DeliveryQuery {
                webhook: Some(args.id),
                status: None,
                limit: Some(100),
            })?
            .into_iter()
            .find(|d| d.id == queued.id)
            .unwrap_or(delivery);
    }
    if args.wait.is_zero() {
        return ctx.out.emit(&delivery, |w| {
            writeln!(
                w,
                "Queued a ping to {} (delivery {}); `baton webhook deliveries {}` shows how it goes",
                args.id, delivery.id, args.id
            )
        });
    }
    match (delivery.status, &delivery.last_error) {
        (DeliveryStatus::Delivered, _) => ctx.out.emit(&delivery, |w| {
            writeln!(
                w,
                "{} answered the ping with HTTP {}",
                args.id,
                delivery.last_status.unwrap_or(200)
            )
        }),
        (_, Some(error)) => Err(CliError::new(
            ErrorClass::Unavailable,
            "webhook_failed",
            format!("{} did not take the ping: {error}", args.id),
        )
        .with_hint(format!(
            "it is retried with backoff; `baton webhook deliveries {}` shows the attempts",
            args.id
        ))),
        _ => Err(CliError::new(
            ErrorClass::Unavailable,
            "webhook_not_sent",
            format!(
                "the ping to {} was queued (delivery {}) but not sent within {}",
                args.id,
                delivery.id,
                baton_core::time::format_duration(args.wait)
            ),
        )
        .with_hint("webhooks are sent by `baton serve`: start it (`baton server start`)")),
    }
}

fn webhook_table(w: &mut dyn Write, hooks: &[Webhook]) -> std::io::Result<()> {
    if hooks.is_empty() {
        return writeln!(
            w,
            "No webhooks. Add one with `baton webhook add URL --events task.done`."
        );
    }
    let mut table = Table::new(&[
        "ID",
        "URL",
        "EVENTS",
        "PENDING",
        "DELIVERED",
        "FAILED",
        "LAST ERROR",
    ]);
    for h in hooks {
        table.row(vec![
            h.id.to_string(),
            h.url.clone(),
            h.events.join(","),
            h.pending.to_string(),
            h.delivered.to_string(),
            h.failed.to_string(),
            match (&h.last_error, h.last_error_at) {
                (Some(e), Some(at)) => format!("{at} {}", cut(e, 80)),
                (Some(e), None) => cut(e, 80),
                _ => "-".into(),
            },
        ]);
    }
    table.write(w)
}

fn delivery_table(w: &mut dyn Write, deliveries: &[Delivery]) -> std::io::Result<()> {
    if deliveries.is_empty() {
        return writeln!(w, "No deliveries.");
    }
    let mut table = Table::new(&[
        "ID",
        "WEBHOOK",
        "EVENT",
        "ACTION",
        "STATUS",
        "ATTEMPTS",
        "NEXT",
        "LAST ERROR",
    ]);
    for d in deliveries {
        table.row(vec![
            d.id.to_string(),
            d.webhook.to_string(),
            d.event.to_string(),
            d.action.clone(),
            d.status.as_str().to_string(),
            d.attempts.to_string(),
            d.next_attempt_at
                .map(|t| t.to_string())
                .unwrap_or_else(|| "-".into()),
            // A delivery that went through has no error to show; ATTEMPTS says whether
            // it took retries.
            match d.status {
                baton_core::api::DeliveryStatus::Delivered => "-".into(),
                _ => or_dash(d.last_error.as_deref().map(|e| cut(e, 80)).as_deref()),
            },
        ]);
    }
    table.write(w)
}
