//! `baton`: the coordination layer for many coding agents on one codebase.

mod commands;
mod error;
mod fences;
mod hook;
mod identity;
mod output;
mod project;
mod wait;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use commands::Context;
use error::{CliError, CliResult};
use output::{Mode, Out};

#[derive(Parser, Debug)]
#[command(
    name = "baton",
    version,
    about = "Coordinate many AI coding agents on one codebase: a task board with atomic pickup, \
             dependencies, leases and an audit log; docs, messages and a code index beside it.",
    after_help = "The board: a server's when BATON_URL=http://... is set (or url in \
                  .baton/config.toml), else a PostgreSQL database's when \
                  BATON_DATABASE_URL=postgres://... is set, else the project's .baton/baton.db \
                  (found from the current directory).\n\
                  Output is JSON when stdout is not a terminal (for agents) and tables when it is \
                  (for people); --json and --human force one.\n\
                  Errors are one JSON object on stderr: {\"error\": {\"code\", \"message\", \"hint\"}}.\n\
                  Exit codes: 0 ok, 2 invalid input, 3 not found (incl. no task ready), \
                  4 conflict or wrong state, 5 store unavailable, 6 not logged in (team server), \
                  7 not allowed for your role, 8 too many attempts, 1 other."
)]
struct Cli {
    /// Print JSON (the default when stdout is not a terminal).
    #[arg(long, global = true, conflicts_with = "human")]
    json: bool,
    /// Print tables for people (the default on a terminal).
    #[arg(long, global = true)]
    human: bool,
    /// Who is acting: the agent's name. Needed to pick up, finish and list your tasks.
    #[arg(long, global = true, env = "BATON_AGENT")]
    agent: Option<String>,
    /// The project on the server (or this machine's store) to work on; the default
    /// project when left out. See `baton project list`.
    #[arg(long, global = true, env = "BATON_PROJECT")]
    project: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// See Baton at work with no setup: a throw-away project, its dashboard, and scripted
    /// agents picking up, asking, committing and handing in tasks, live.
    Demo(commands::demo::DemoArgs),
    /// Create .baton/ (config, database) at the repository root.
    Init(commands::init::InitArgs),
    /// Tasks: add, list, show, update, pickup, done, approve, reject, block, note, delete.
    #[command(subcommand)]
    Task(commands::task::TaskCommand),
    /// Initiatives (features made of phases): add, list, show, update, approve, archive,
    /// reopen.
    #[command(subcommand)]
    Initiative(commands::plan::InitiativeCommand),
    /// Phases of an initiative and their review gates: add, list, show, update, approve,
    /// request-changes, block, unblock.
    #[command(subcommand)]
    Phase(commands::plan::PhaseCommand),
    /// Review comments on phases and tasks: comment (or reply), list, resolve, reopen.
    #[command(subcommand)]
    Review(commands::plan::ReviewCommand),
    /// An initiative's pages (docs in a tree): add, list.
    #[command(subcommand)]
    Page(commands::plan::PageCommand),
    /// Proposed changes to the plan: add (agents), list, show, accept, dismiss (people).
    #[command(subcommand)]
    Proposal(commands::plan::ProposalCommand),
    /// Counts by status, blocked tasks and why, agents and what they hold.
    Board,
    /// Agents seen on this board and the tasks they hold.
    Agents,
    /// The audit log: every change, who made it and when.
    Events(commands::events::EventsArgs),
    /// Project settings: lease_ttl, max_retries, default_branch, merge_strategy, land,
    /// repository.
    #[command(subcommand)]
    Config(commands::coord::ConfigCommand),
    /// Renew your leases and reservations (any mutation by you renews them too).
    Heartbeat(commands::coord::HeartbeatArgs),
    /// Reserve files (globs) so other agents do not edit them; conflicts are refused.
    Reserve(commands::coord::ReserveArgs),
    /// Release your reservations.
    Release(commands::coord::ReleaseArgs),
    /// Live reservations, by holder or by path.
    Reservations(commands::coord::ReservationsArgs),
    /// Who holds which of these paths.
    Check(commands::coord::CheckArgs),
    /// Refuse a commit touching files another agent reserved (pre-commit hook).
    Guard(commands::guard::GuardArgs),
    /// Refuse an edit of a file another agent reserved (an agent CLI's edit hook).
    EditCheck(commands::guard::EditCheckArgs),
    /// Record file changes as events; warn about edits to files someone else reserved.
    Watch(commands::watch::WatchArgs),
    /// The knowledge base: write, read, list, update, history, delete, search.
    #[command(subcommand)]
    Docs(commands::docs::DocsCommand),
    /// Ask an agent, a task's holder (T-n), human, or any; --wait blocks for the answer.
    Ask(commands::messages::AskArgs),
    /// Talk to the agent that worked on a task: a runner resumes its session with your
    /// message (in the task's worktree) and its reply lands in the thread.
    Chat(commands::messages::ChatArgs),
    /// Open questions to you and answers not yet delivered to you (--all: everything).
    Inbox(commands::messages::InboxArgs),
    /// Answer a message; the answer goes to whoever asked, in the same thread.
    Answer(commands::messages::AnswerArgs),
    /// Block until a message for you arrives (or is already waiting), then print it.
    Listen(commands::messages::ListenArgs),
    /// A whole conversation: the question and every answer.
    Thread {
        /// Any message of the conversation (M-4).
        id: baton_core::MessageId,
    },
    /// Write the whole project as JSON Lines (to move it, back it up, or inspect it).
    Export(commands::export::ExportArgs),
    /// Write an attributed log entry (a person, an AI agent or a system) into the event log.
    Log(commands::ops::LogArgs),
    /// Log entries and board changes as lines, newest last; -f follows them live.
    Tail(commands::ops::TailArgs),
    /// What /metrics says, for people: runs, tokens, cost, sessions, log entries, tasks.
    Metrics(commands::ops::MetricsArgs),
    /// Apply the log_retention setting now: delete log entries and ended runs' output older
    /// than it (board events stay); the server also does this every few minutes.
    Prune(commands::ops::PruneArgs),
    /// Sessions: spans of work by one identity that every event they write carries.
    #[command(subcommand)]
    Session(commands::ops::SessionCommand),
    /// What the record says: log messages grouped by shape, values far from their baseline.
    #[command(subcommand)]
    Analyze(commands::ops::AnalyzeCommand),
    /// A consistent online copy of the board while agents keep writing: SQLite's backup
    /// API for a project file, one snapshot exported as JSON Lines for PostgreSQL.
    Backup(commands::backup::BackupArgs),
    /// Bring a backup (or an export) into an empty project, SQLite or PostgreSQL.
    Restore(commands::backup::RestoreArgs),
    /// Load a `baton export` file into an empty project, or bring another tool's board over.
    #[command(subcommand)]
    Import(commands::import::ImportCommand),
    /// Copy this project's board into a new PostgreSQL database, losslessly.
    Migrate(commands::migrate::MigrateArgs),
    /// Users of a team server: add (the first admin, on the server's machine), list, set.
    #[command(subcommand)]
    User(commands::team::UserCommand),
    /// API tokens for agents and scripts: create (shown once), list, revoke.
    #[command(subcommand)]
    Token(commands::team::TokenCommand),
    /// Projects on a server: create, list, show, member.
    #[command(subcommand)]
    Project(commands::team::ProjectCommand),
    /// Log in to a team server; the session is kept in your config dir (mode 0600).
    Login(commands::team::LoginArgs),
    /// End the stored session with a server.
    Logout {
        /// The server (http://host:7420); default: BATON_URL.
        url: Option<String>,
    },
    /// Who you are here: user, project, role, server.
    Whoami,
    /// Serve the board over HTTP in the foreground: REST API, live event stream, metrics.
    Serve(commands::serve::ServeArgs),
    /// Run the HTTP server in the background: start, stop, status, logs.
    #[command(subcommand)]
    Server(commands::serve::ServerCommand),
    /// Build or refresh the code index (.baton/code.db); install its pre-commit hook.
    Scan(commands::scan::ScanArgs),
    /// Query the code index: symbols, outline, imports, dependents, summary, impact.
    #[command(subcommand)]
    Code(commands::code::CodeCommand),
    /// Serve the MCP tools on stdin/stdout (for Claude Code, Codex, Cursor).
    Mcp(commands::mcp::McpArgs),
    /// Write the agents' protocol (.baton/AGENTS.md, CLAUDE.md) and print MCP configuration.
    Generate(commands::generate::GenerateArgs),
    /// Run agent CLIs (Claude Code, Codex, ...) on ready tasks, each in its own worktree.
    Runner(commands::runner::RunnerArgs),
    /// The runs `baton runner` started, newest first: task, agent, status, time, tokens.
    Runs(commands::runs::RunsArgs),
    /// One run: show, logs (-f to follow), stop, retry.
    #[command(subcommand)]
    Run(commands::runs::RunCommand),
    /// Provider accounts the runners use: available, cooling until a time, or disabled.
    Accounts(commands::runs::AccountsArgs),
    /// Approved work carried up the branches (task -> phase -> initiative -> default
    /// branch): list, show, run, retry. A conflict changes nothing and becomes a merge task.
    #[command(subcommand)]
    Merge(commands::merge::MergeCommand),
    /// What a task (T-12), phase (P-3), initiative (I-1) or errand (E-2) changed, against
    /// its base.
    Diff(commands::merge::DiffArgs),
    /// Errands: a small change by one agent on a branch of its own off the default branch,
    /// no task board around it: start, list, show, diff, chat, merge, abandon, delete.
    #[command(subcommand)]
    Errand(commands::errand::ErrandCommand),
    /// Webhooks: the server POSTs chosen events to a URL, signed with a secret, retried
    /// with backoff: add, list, remove, test, deliveries.
    #[command(subcommand)]
    Webhook(commands::webhook::WebhookCommand),
}

/// The identity commands act as. A pattern (`claude-*`) is claimed by `baton mcp`, the
/// process a client starts per session, and found again by the commands that session
/// runs; with no identity at all, a command inside such a session is that session.
/// Answers the project too when it had to look for it, so the command does not again.
fn who(
    cwd: &std::path::Path,
    given: Option<String>,
    claims: bool,
) -> CliResult<(Option<String>, Option<project::Project>)> {
    let pattern = given.as_deref().filter(|a| identity::is_pattern(a));
    if given.is_some() && pattern.is_none() {
        return Ok((given, None));
    }
    let Ok(project) = project::Project::find(cwd) else {
        return match pattern {
            Some(p) => Err(CliError::invalid(format!(
                "BATON_AGENT={p} asks for a numbered identity, which needs a project"
            ))
            .with_hint("run inside a repository with .baton/ (`baton init`)")),
            None => Ok((None, None)),
        };
    };
    let name = match identity::inherited(&project.dir(), pattern) {
        Some(found) => Some(found),
        None => match pattern {
            Some(p) if claims => Some(identity::claim(&project.dir(), p)?),
            Some(p) => return Err(not_in_session(p)),
            None => None,
        },
    };
    Ok((name, Some(project)))
}

fn not_in_session(pattern: &str) -> CliError {
    CliError::invalid(format!(
        "BATON_AGENT={pattern} is a pattern, and no session of it runs around this command"
    ))
    .with_hint(
        "`baton mcp` claims a name of the pattern for its session; elsewhere set a name of \
         your own (BATON_AGENT=claude-2)",
    )
}

fn run(cli: Cli, agent_on_command_line: bool) -> CliResult {
    let cwd = std::env::current_dir()?;
    let (agent, found) = who(
        &cwd,
        cli.agent.filter(|a| !a.trim().is_empty()),
        matches!(cli.command, Command::Mcp(_)),
    )?;
    let ctx = Context {
        cwd,
        agent_on_command_line,
        agent,
        out: Out {
            mode: Mode::detect(cli.json, cli.human),
        },
        project: found.map(std::cell::OnceCell::from).unwrap_or_default(),
        project_key: cli.project.filter(|p| !p.trim().is_empty()),
    };
    match cli.command {
        Command::Demo(args) => commands::demo::run(&ctx, args),
        Command::Init(args) => commands::init::run(&ctx, args),
        Command::Task(command) => commands::task::run(&ctx, command),
        Command::Board => commands::board::board(&ctx),
        Command::Agents => commands::board::agents(&ctx),
        Command::Events(args) => commands::events::run(&ctx, args),
        Command::Config(command) => commands::coord::config(&ctx, command),
        Command::Heartbeat(args) => commands::coord::heartbeat(&ctx, args),
        Command::Reserve(args) => commands::coord::reserve(&ctx, args),
        Command::Release(args) => commands::coord::release(&ctx, args),
        Command::Reservations(args) => commands::coord::reservations(&ctx, args),
        Command::Check(args) => commands::coord::check(&ctx, args),
        Command::Guard(args) => commands::guard::run(&ctx, args),
        Command::Watch(args) => commands::watch::run(&ctx, args),
        Command::Docs(command) => commands::docs::run(&ctx, command),
        Command::Ask(args) => commands::messages::ask(&ctx, args),
        Command::Chat(args) => commands::messages::chat(&ctx, args),
        Command::Inbox(args) => commands::messages::inbox(&ctx, args),
        Command::Answer(args) => commands::messages::answer(&ctx, args),
        Command::Listen(args) => commands::messages::listen(&ctx, args),
        Command::Thread { id } => commands::messages::thread(&ctx, id),
        Command::Export(args) => commands::export::run(&ctx, args),
        Command::Backup(args) => commands::backup::backup(&ctx, args),
        Command::Log(args) => commands::ops::log(&ctx, args),
        Command::Tail(args) => commands::ops::tail(&ctx, args),
        Command::Session(command) => commands::ops::session(&ctx, command),
        Command::Metrics(args) => commands::ops::metrics(&ctx, args),
        Command::Prune(args) => commands::ops::prune(&ctx, args),
        Command::Analyze(command) => commands::ops::analyze(&ctx, command),
        Command::Restore(args) => commands::backup::restore(&ctx, args),
        Command::Import(command) => commands::import::run(&ctx, command),
        Command::Migrate(args) => commands::migrate::run(&ctx, args),
        Command::User(command) => commands::team::user(&ctx, command),
        Command::Token(command) => commands::team::token(&ctx, command),
        Command::Project(command) => commands::team::project(&ctx, command),
        Command::Login(args) => commands::team::login(&ctx, args),
        Command::Logout { url } => commands::team::logout(&ctx, url),
        Command::Whoami => commands::team::whoami(&ctx),
        Command::Serve(args) => commands::serve::serve(&ctx, args),
        Command::Server(command) => commands::serve::server(&ctx, command),
        Command::Scan(args) => commands::scan::run(&ctx, args),
        Command::Mcp(args) => commands::mcp::run(&ctx, args),
        Command::EditCheck(args) => match commands::guard::edit_check(&ctx, args)? {
            // The hook's own exit code: Claude Code blocks the edit and shows stderr.
            Some(code) => std::process::exit(code.into()),
            None => Ok(()),
        },
        Command::Generate(args) => commands::generate::run(&ctx, args),
        Command::Code(command) => commands::code::run(&ctx, command),
        Command::Runner(args) => commands::runner::run(&ctx, args),
        Command::Initiative(command) => commands::plan::initiative(&ctx, command),
        Command::Phase(command) => commands::plan::phase(&ctx, command),
        Command::Review(command) => commands::plan::review(&ctx, command),
        Command::Page(command) => commands::plan::page(&ctx, command),
        Command::Proposal(command) => commands::plan::proposal(&ctx, command),
        Command::Runs(args) => commands::runs::list(&ctx, args),
        Command::Run(command) => commands::runs::run(&ctx, command),
        Command::Accounts(args) => commands::runs::accounts(&ctx, args),
        Command::Merge(command) => commands::merge::merge(&ctx, command),
        Command::Diff(args) => commands::merge::diff(&ctx, args),
        Command::Errand(command) => commands::errand::errand(&ctx, command),
        Command::Webhook(command) => commands::webhook::webhook(&ctx, command),
    }
}

fn report(error: &CliError, json: bool) {
    let stderr = std::io::stderr();
    let mut w = stderr.lock();
    if json || !stderr.is_terminal() {
        let _ = writeln!(w, "{}", error.to_json());
    } else {
        let _ = writeln!(w, "error: {}", error.message);
        if let Some(h) = &error.hint {
            let _ = writeln!(w, "hint: {h}");
        }
    }
}

fn is_broken_pipe(e: &CliError) -> bool {
    e.code == "io_error" && e.message.to_lowercase().contains("broken pipe")
}

fn main() -> ExitCode {
    quiet_panics_on_main_thread();
    std::panic::catch_unwind(real_main).unwrap_or_else(|payload| {
        // A bug, but still one JSON error and a distinct exit code, not a backtrace.
        let message = baton_core::panic::panic_message(payload.as_ref());
        let at = PANIC_AT
            .lock()
            .ok()
            .and_then(|mut at| at.take())
            .unwrap_or_default();
        let err = CliError::new(
            baton_core::ErrorClass::Internal,
            "internal",
            format!("baton panicked{at}: {message}"),
        )
        .with_hint("this is a bug in Baton; nothing was saved by this call");
        report(&err, true);
        ExitCode::from(err.exit_code() as u8)
    })
}

/// Where the main thread panicked, for the JSON error.
static PANIC_AT: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// A panic on the main thread is reported as one JSON error: by `main`, or by the store
/// that contained it (and rolled its call back). Other threads keep the default report.
fn quiet_panics_on_main_thread() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() == Some("main") {
            if let (Some(location), Ok(mut at)) = (info.location(), PANIC_AT.lock()) {
                *at = Some(format!(" at {}:{}", location.file(), location.line()));
            }
        } else {
            default(info);
        }
    }));
}

fn real_main() -> ExitCode {
    // `args_os`: an argument that is not UTF-8 must reach clap (which refuses it with exit
    // 2), not panic here.
    let json_flag = std::env::args_os().any(|a| a == "--json");
    use clap::{CommandFactory, FromArgMatches};
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let (cli, agent_on_command_line) = match parsed {
        Ok((cli, matches)) => {
            // `--agent` typed for `events` or `reservations` filters them; BATON_AGENT does not.
            let typed = |m: &clap::ArgMatches| {
                m.value_source("agent") == Some(clap::parser::ValueSource::CommandLine)
            };
            let on_line =
                typed(&matches) || matches.subcommand().is_some_and(|(_, sub)| typed(sub));
            (cli, on_line)
        }
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return ExitCode::from(
                    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                        2
                    } else {
                        0
                    },
                );
            }
            if std::io::stderr().is_terminal() && !json_flag {
                let _ = e.print();
            } else {
                // Everything above the usage, on one line: "... not provided: <MESSAGE>".
                let message = e.to_string();
                let (above, usage) = message.split_once("\nUsage:").unwrap_or((&message, ""));
                let said = above
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                let said = said.trim_start_matches("error: ");
                let usage = usage.lines().next().unwrap_or_default().trim();
                let hint = if usage.is_empty() {
                    "see `baton --help` or `baton <command> --help`".to_string()
                } else {
                    format!("usage: {usage}; see `--help`")
                };
                let err = CliError::invalid(if said.is_empty() {
                    "invalid arguments"
                } else {
                    said
                })
                .with_hint(hint);
                let mut err = err;
                err.code = "invalid_arguments".into();
                report(&err, true);
            }
            return ExitCode::from(2);
        }
    };
    let json = cli.json;
    match run(cli, agent_on_command_line) {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stops early (`| head`) is not a failure.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e, json);
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
