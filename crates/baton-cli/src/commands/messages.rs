//! `baton ask`, `inbox`, `answer`, `listen`, `thread`: questions between agents and people.

use std::io::Write;
use std::time::Duration;

use baton_core::api::{AnswerRequest, AskRequest, InboxRequest};
use baton_core::model::Message;
use baton_core::time::{format_duration, parse_duration};
use baton_core::{ErrorClass, MessageId, TaskId};
use clap::Args;
use serde_json::json;

use super::Context;
use crate::error::{CliError, CliResult};
use crate::wait::{self, Waiter};

#[derive(Args, Debug)]
pub struct AskArgs {
    /// An agent, a task (its current holder), human, or any.
    #[arg(long)]
    pub to: String,
    /// The question.
    pub question: String,
    /// Wait this long for the answer (`90`, `30s`, `5m`); exit 3 if none comes.
    #[arg(long, value_name = "DURATION")]
    pub wait: Option<String>,
    /// The task the question is about (an agent is asked about it even after it handed the
    /// task in; a runner resumes its session to answer).
    #[arg(long)]
    pub task: Option<TaskId>,
}

#[derive(Args, Debug)]
pub struct ChatArgs {
    /// The task whose agent you talk to (T-12).
    pub task: TaskId,
    /// What you tell or ask it.
    pub message: String,
    /// The agent (default: the one whose run worked on the task last, else its holder).
    #[arg(long)]
    pub to: Option<String>,
    /// Wait this long for the reply (`30s`, `5m`); exit 3 if none comes.
    #[arg(long, value_name = "DURATION")]
    pub wait: Option<String>,
}

#[derive(Args, Debug)]
pub struct InboxArgs {
    /// Every message to you, answered and delivered ones too.
    #[arg(long)]
    pub all: bool,
    /// At most this many (the newest); 0 = all.
    #[arg(long, short, default_value_t = 100)]
    pub limit: u64,
}

#[derive(Args, Debug)]
pub struct AnswerArgs {
    /// The message to answer (M-n).
    pub id: MessageId,
    /// The answer's text.
    pub text: String,
}

#[derive(Args, Debug)]
pub struct ListenArgs {
    /// Give up after this long (exit 3); default: wait until a message comes.
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
}

fn duration(flag: &str, text: &str) -> CliResult<Duration> {
    parse_duration(text).ok_or_else(|| {
        CliError::invalid(format!("--{flag} '{text}' is not a duration"))
            .with_hint("for example 30, 30s, 5m")
    })
}

/// The board's wake-up for this process, wherever the board lives (the same choice as
/// `Context::api`): over a server, its event stream; on PostgreSQL, its notifications;
/// locally, writes to the database file.
fn watcher(ctx: &Context) -> CliResult<Waiter> {
    // A database named directly needs no project or server to be found.
    let direct = ctx.direct_database_url();
    let client = match direct {
        Some(_) => None,
        None => ctx.client()?,
    };
    let database = match (&direct, &client) {
        (None, None) => ctx.project()?.database(),
        _ => std::path::PathBuf::new(),
    };
    Waiter::for_board(direct.as_deref(), client.as_ref(), &database)
}

pub fn ask(ctx: &Context, args: AskArgs) -> CliResult {
    let request = AskRequest {
        to: args.to,
        body: args.question,
        task: args.task,
    };
    ask_and_wait(ctx, request, args.wait.as_deref())
}

/// `baton chat T-12 "..."`: a message to the agent that worked on the task; the runner
/// resumes its session with it and the reply lands in the same thread.
pub fn chat(ctx: &Context, args: ChatArgs) -> CliResult {
    // No addressee: core picks the agent that worked on the task last.
    let to = args.to.unwrap_or_default();
    let request = AskRequest {
        to,
        body: args.message,
        task: Some(args.task),
    };
    ask_and_wait(ctx, request, args.wait.as_deref())
}

fn ask_and_wait(ctx: &Context, request: AskRequest, wait: Option<&str>) -> CliResult {
    let wait_for = wait.map(|w| duration("wait", w)).transpose()?;
    let api = ctx.api()?;
    let actor = ctx.actor();
    let watch = wait_for.map(|_| watcher(ctx)).transpose()?;
    let question = api.ask(&actor, request)?;
    let warning = question.warning.clone();
    if let (Some(warning), crate::output::Mode::Human) = (&warning, ctx.out.mode) {
        eprintln!("warning: {warning}");
    }
    let (Some(timeout), Some(watch)) = (wait_for, watch) else {
        // Agents read the warning in the answer itself (the message's `warning`): stderr
        // holds errors only.
        return ctx.out.emit(&question, |w| {
            writeln!(
                w,
                "Asked {} ({}). Answers arrive in `baton inbox`.",
                question.to, question.id
            )
        });
    };
    let request = InboxRequest {
        reply_to: Some(question.id),
        ..InboxRequest::default()
    };
    let answer = wait::until(
        Some(timeout),
        || Ok(api.inbox(&actor, &request)?.into_iter().next()),
        &mut |at_most| watch.wait(at_most),
    )?;
    match answer {
        Some(answer) => {
            let both = json!({ "question": question, "answer": answer });
            ctx.out.emit(&both, |w| {
                writeln!(w, "{} answered {}:", answer.from, question.id)?;
                writeln!(w, "{}", answer.body)
            })
        }
        None => Err(CliError::new(
            ErrorClass::NotFound,
            "no_answer",
            format!(
                "no answer to {} from {} within {}",
                question.id,
                question.to,
                format_duration(timeout)
            ),
        )
        .with_hint(format!(
            "the question stays open; its answer will show in `baton inbox` (or wait again with `baton listen`); it is {}",
            question.id
        ))),
    }
}

pub fn inbox(ctx: &Context, args: InboxArgs) -> CliResult {
    let messages = ctx.api()?.inbox(
        &ctx.actor(),
        &InboxRequest {
            all: args.all,
            reply_to: None,
            limit: Some(args.limit),
        },
    )?;
    ctx.out.emit(&messages, |w| message_table(w, &messages))
}

pub fn answer(ctx: &Context, args: AnswerArgs) -> CliResult {
    let reply = ctx
        .api()?
        .answer(&ctx.actor(), args.id, AnswerRequest { body: args.text })?;
    ctx.out.emit(&reply, |w| {
        writeln!(w, "Answered {} ({} to {})", args.id, reply.id, reply.to)
    })
}

pub fn listen(ctx: &Context, args: ListenArgs) -> CliResult {
    let timeout = args
        .timeout
        .as_deref()
        .map(|t| duration("timeout", t))
        .transpose()?;
    let api = ctx.api()?;
    let actor = ctx.actor();
    let watch = watcher(ctx)?;
    let request = InboxRequest::default();
    let found = wait::until(
        timeout,
        || {
            let pending = api.inbox(&actor, &request)?;
            Ok((!pending.is_empty()).then_some(pending))
        },
        &mut |at_most| watch.wait(at_most),
    )?;
    match found {
        Some(messages) => ctx.out.emit(&messages, |w| message_table(w, &messages)),
        None => Err(CliError::new(
            ErrorClass::NotFound,
            "no_message",
            format!(
                "no message for {actor} within {}",
                timeout.map(format_duration).unwrap_or_default()
            ),
        )
        .with_hint("listen again, or check `baton inbox --all`")),
    }
}

pub fn thread(ctx: &Context, id: MessageId) -> CliResult {
    let messages = ctx.api()?.thread(id)?;
    ctx.out.emit(&messages, |w| message_table(w, &messages))
}

/// Messages for people: a header line each (id, who to whom, task, reply, time, state),
/// then the whole text, wrapped to the terminal's width (else `COLUMNS`, else 100) and
/// indented. Nothing is cut: a question read in half gets half an answer.
fn message_table(w: &mut dyn Write, messages: &[Message]) -> std::io::Result<()> {
    if messages.is_empty() {
        return writeln!(w, "No messages.");
    }
    // The terminal's own width (shells seldom export COLUMNS), else COLUMNS, else 100.
    let width = terminal_size::terminal_size()
        .map(|(w, _)| usize::from(w.0))
        .or_else(|| {
            std::env::var("COLUMNS")
                .ok()
                .and_then(|c| c.trim().parse::<usize>().ok())
        })
        .filter(|c| *c >= 40)
        .unwrap_or(100);
    for (i, m) in messages.iter().enumerate() {
        let state = match (m.is_question(), &m.answered_by, m.read_at) {
            (true, Some(by), _) => format!("answered by {by}"),
            (true, None, _) => "open question".into(),
            (false, _, Some(_)) => "delivered".into(),
            (false, _, None) => "new".into(),
        };
        if i > 0 {
            writeln!(w)?;
        }
        write!(w, "{}  {} -> {}", m.id, m.from, m.to)?;
        if let Some(t) = m.task {
            write!(w, "  {t}")?;
        }
        if let Some(r) = m.reply_to {
            write!(w, "  re {r}")?;
        }
        writeln!(w, "  {}  {state}", m.created_at)?;
        for line in wrap(&m.body, width.saturating_sub(4)) {
            writeln!(w, "    {line}")?;
        }
    }
    Ok(())
}

/// `text` in lines of at most `width` characters, broken between words (a word longer
/// than a line is split); its own line breaks are kept.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(10);
    let mut out = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        let mut len = 0;
        for word in paragraph.split_whitespace() {
            let mut word: Vec<char> = word.chars().collect();
            while word.len() > width {
                if len > 0 {
                    out.push(std::mem::take(&mut line));
                    len = 0;
                }
                out.push(word.drain(..width).collect());
            }
            if len > 0 && len + 1 + word.len() > width {
                out.push(std::mem::take(&mut line));
                len = 0;
            }
            if len > 0 {
                line.push(' ');
                len += 1;
            }
            line.extend(word.iter());
            len += word.len();
        }
        out.push(line);
    }
    out
}

#[cfg(test)]
mod wrap_tests {
    use super::wrap;

    #[test]
    fn wrapping_keeps_every_word_and_the_width() {
        let text = "Should the session cache live in Redis or in the database? \
                    The review of T-12 said Redis, ops said no. Ünïcödé wörds count as one. \
                    averyveryveryverylongwordthatexceedsthewidthofoneline\nsecond paragraph";
        let lines = wrap(text, 24);
        assert!(lines.iter().all(|l| l.chars().count() <= 24), "{lines:?}");
        let words = |s: &str| s.split_whitespace().collect::<String>();
        assert_eq!(words(&lines.join(" ")), words(text));
        assert_eq!(lines.last().unwrap(), "second paragraph");
    }
}
