//! `baton demo`: Baton doing its main job with no setup. A throw-away project (a small
//! web shop in a temp dir), a plan on its board, the server with the dashboard, and a
//! runner whose agents are scripts that use `baton` as a coding agent would: they pick
//! up, reserve, ask, answer, commit and hand in, at a pace a person can follow. A stand-in
//! for the person answers questions and approves reviews when nobody does it on the
//! dashboard first.

mod children;
mod setup;
mod shop;
mod standin;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use serde_json::json;

use super::Context;
use crate::error::{CliError, CliResult};
use crate::output::Mode;
use children::Children;

#[derive(Args, Debug)]
#[command(after_help = "\
What happens: a new git repository (a small web shop: a Python service and a web page) is
made in the system's temp dir (TMPDIR), never in the current directory, with .baton/ set
up and a plan of six tasks on its board (priorities, dependencies, file surfaces,
acceptance criteria). `baton serve` starts on 127.0.0.1 (port 7420 when free, else any
free port; --port picks one) and its URL is printed: open it to watch the dashboard.
`baton runner` then runs three agents, demo-1..3, each in its own git worktree. Each agent
is a shell script (.baton/demo/agent.sh in the demo project) that calls this very `baton`
binary: it notes progress, reserves files, asks another agent or the human a question and
waits for the answer, commits its files one by one, and exits so the runner hands the task
in for review. A stand-in for you answers questions to `human` and approves reviews after
a few steps, unless you do it first on the dashboard (Inbox; Approve on a card); approved
work is merged into main by the runner.
The demo keeps running until Ctrl-C, then stops the runner (its agents' work committed)
and the server, and removes the project (--keep leaves it, and says where).
--exit-when-done ends it once every task is done and merged (for tests and scripts).
Output: with --json, one line {\"url\", \"project\", \"pid\", ...} once the server answers,
and one line {\"finished\": ...} at the end.")]
pub struct DemoArgs {
    /// Port for the dashboard (default 7420 when free, else a free one; 0: any free one).
    #[arg(long, short)]
    pub port: Option<u16>,
    /// How long each scripted step takes (500ms, 3s, ...): the pace of the show.
    #[arg(long, default_value = "3s", value_parser = super::runner::duration)]
    pub step: Duration,
    /// Run the steps fast (200ms each): for tests, or to see the end quickly.
    #[arg(long)]
    pub fast: bool,
    /// Scripted agents working at once.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=8))]
    pub agents: u16,
    /// Stop once every task is done and merged, instead of waiting for Ctrl-C.
    #[arg(long, alias = "once")]
    pub exit_when_done: bool,
    /// Keep the demo project when the demo ends (its path is printed).
    #[arg(long)]
    pub keep: bool,
}

/// The step of `--fast`.
const FAST_STEP: Duration = Duration::from_millis(200);
/// The port the dashboard gets when it is free, as `baton serve`'s.
const PREFERRED_PORT: u16 = super::serve::DEFAULT_PORT;

pub fn run(ctx: &Context, args: DemoArgs) -> CliResult {
    let step = if args.fast { FAST_STEP } else { args.step };
    let port = args.port.unwrap_or_else(|| {
        let free = std::net::TcpListener::bind(("127.0.0.1", PREFERRED_PORT)).is_ok();
        if free {
            PREFERRED_PORT
        } else {
            0
        }
    });
    // A port asked for and taken: said before anything is made, so nothing is left behind.
    if port != 0 && std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
        return Err(CliError::new(
            baton_core::ErrorClass::Conflict,
            "port_in_use",
            format!("cannot serve the demo on port {port}: the port is in use"),
        )
        .with_hint("pick another port with --port (0 picks a free one), or leave --port out"));
    }
    let stop = Arc::new(AtomicBool::new(false));
    super::runner::stop_on_signals(stop.clone());

    let root = setup::make_dir(&ctx.cwd)?;
    let result = show(ctx, &args, &root, step, port, &stop);
    // A failed demo keeps its project: the log there says what went wrong.
    let removed = !args.keep && result.is_ok() && std::fs::remove_dir_all(&root).is_ok();
    let finished = json!({
        "finished": result.is_ok(),
        "project": root,
        "removed": removed,
    });
    let said = ctx.out.emit(&finished, |w| {
        if removed {
            writeln!(w, "Stopped. Removed the demo project {}", root.display())
        } else {
            writeln!(w, "Stopped. The demo project is in {}", root.display())?;
            writeln!(
                w,
                "  cd {} && baton board     # or baton serve, to see it again",
                root.display()
            )
        }
    });
    result.and(said)
}

/// Everything between making the directory and removing it; the children are stopped on
/// every way out.
fn show(
    ctx: &Context,
    args: &DemoArgs,
    root: &Path,
    step: Duration,
    port: u16,
    stop: &Arc<AtomicBool>,
) -> CliResult {
    let project = setup::create_project(root)?;
    let tasks = setup::add_plan(&project)?;
    // Long enough for a person to answer on the dashboard before the stand-in does.
    let answer_after = step * 4;
    // An agent waits this long for an answer before going on without one.
    let ask_wait = (answer_after * 4).max(Duration::from_secs(15));
    setup::write_agents(&project, step, ask_wait)?;

    let mut children = Children::new(&project)?;
    let url = children.start_server(port)?;
    children.start_runner(args.agents)?;
    let started = json!({
        "url": url,
        "project": root,
        "pid": std::process::id(),
        "server_pid": children.server_pid(),
        "runner_pid": children.runner_pid(),
        "tasks": tasks.len(),
        "step_ms": step.as_millis() as u64,
        "log": children.log_path(),
    });
    ctx.out.emit(&started, |w| {
        writeln!(w)?;
        writeln!(w, "  Baton demo: open the dashboard at  {url}/")?;
        writeln!(w)?;
        writeln!(
            w,
            "  To use Baton on your own repository:  cargo install --path crates/baton-cli"
        )?;
        writeln!(
            w,
            "                                        cd your-repo && baton init && baton serve"
        )?;
        writeln!(w)?;
        writeln!(
            w,
            "{} scripted agents work through {} tasks of a small web shop in {}",
            args.agents,
            tasks.len(),
            root.display()
        )?;
        writeln!(
            w,
            "(one step every {}). Questions to you and reviews wait {} for you on the \
             dashboard, then a stand-in answers and approves. Ctrl-C stops the demo{}.",
            baton_core::time::format_duration(step),
            baton_core::time::format_duration(answer_after),
            if args.keep {
                ""
            } else {
                " and removes its project (--keep keeps it)"
            }
        )?;
        writeln!(w)
    })?;

    let human = ctx.out.mode == Mode::Human;
    let mut person = standin::StandIn::open(&project, answer_after, human)?;
    let outcome = loop {
        if stop.load(Ordering::SeqCst) {
            break Ok(());
        }
        if let Err(e) = children.check() {
            break Err(e);
        }
        match person.tick() {
            Ok(true) if args.exit_when_done => break Ok(()),
            Ok(_) => {}
            Err(e) => break Err(e),
        }
        sleep_unless_stopped(
            stop,
            (step / 2).clamp(Duration::from_millis(100), Duration::from_secs(1)),
        );
    };
    if human {
        eprintln!("baton demo: stopping the agents and the server");
    }
    children.stop();
    outcome
}

fn sleep_unless_stopped(stop: &AtomicBool, total: Duration) {
    let until = std::time::Instant::now() + total;
    while !stop.load(Ordering::SeqCst) && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
}
