//! Coordination: project settings, heartbeats, file reservations and who holds a path.

use std::io::Write;

use baton_core::api::{HeartbeatRequest, ReleaseRequest, ReservationFilter, ReserveRequest};
use baton_core::model::{Reservation, ReservationMode};
use baton_core::TaskId;
use clap::{Args, Subcommand};

use super::Context;
use crate::error::{CliError, CliResult};
use crate::output::{cut, or_dash, Table};

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print one setting.
    Get {
        /// The setting's name (see `baton config list`).
        key: String,
    },
    /// Change a setting: lease_ttl (1s to 7d, default 30m), max_retries (1 to 100, default
    /// 3), log_retention (off, or how long log entries and ended runs' output are kept:
    /// 30d), default_branch, merge_strategy, land, repository.
    Set {
        /// The setting's name.
        key: String,
        /// Its new value.
        value: String,
    },
    /// Every setting with its value.
    #[command(alias = "ls")]
    List,
}

pub fn config(ctx: &Context, command: ConfigCommand) -> CliResult {
    let api = ctx.api()?;
    match command {
        ConfigCommand::List => {
            let all = api.settings()?;
            ctx.out.emit(&all, |w| {
                for s in &all {
                    let note = if s.default { "  (default)" } else { "" };
                    writeln!(w, "{:<16} {}{note}", s.key, s.value)?;
                }
                Ok(())
            })
        }
        ConfigCommand::Get { key } => {
            let all = api.settings()?;
            match all.into_iter().find(|s| s.key == key) {
                Some(s) => ctx.out.emit(&s, |w| writeln!(w, "{}", s.value)),
                None => Err(
                    crate::error::CliError::invalid(format!("unknown setting '{key}'"))
                        .with_hint("see `baton config list` for every setting"),
                ),
            }
        }
        ConfigCommand::Set { key, value } => {
            let s = api.set_setting(&ctx.actor(), &key, &value)?;
            ctx.out.emit(&s, |w| writeln!(w, "{} = {}", s.key, s.value))
        }
    }
}

#[derive(Args, Debug)]
pub struct HeartbeatArgs {
    /// Also check this claim (its fence is remembered from pickup, or give --fence).
    #[arg(long)]
    pub task: Option<TaskId>,
    /// The fence the pickup returned, when it is not remembered from the pickup.
    #[arg(long, requires = "task")]
    pub fence: Option<u64>,
}

pub fn heartbeat(ctx: &Context, args: HeartbeatArgs) -> CliResult {
    let agent = ctx.agent()?;
    let fence = args.task.and_then(|t| ctx.fence(&agent, t, args.fence));
    let beat = ctx.api()?.heartbeat(
        &agent,
        &HeartbeatRequest {
            task: args.task,
            fence,
        },
    )?;
    ctx.out.emit(&beat, |w| {
        super::task::lost_lines(w, &beat.lost)?;
        if beat.tasks.is_empty() {
            writeln!(w, "{} holds no tasks.", beat.agent)?;
        }
        for t in &beat.tasks {
            writeln!(
                w,
                "{}  fence {}  lease until {}",
                t.id, t.fence, t.lease_expires_at
            )?;
        }
        if beat.reservations > 0 {
            writeln!(w, "{} reservations renewed", beat.reservations)?;
        }
        Ok(())
    })
}

#[derive(Args, Debug)]
pub struct ReserveArgs {
    /// Gitignore-style globs (src/auth/**, *.sql, docs/).
    #[arg(required = true)]
    pub globs: Vec<String>,
    /// Nobody else may reserve an overlapping glob (the default).
    #[arg(long, conflicts_with = "shared")]
    pub exclusive: bool,
    /// Others may share it; only exclusive holders conflict.
    #[arg(long)]
    pub shared: bool,
    /// How long it lasts without renewal (90s, 30m, 2h); default: the lease TTL.
    #[arg(long)]
    pub ttl: Option<String>,
    /// Why, shown to whoever runs into the reservation.
    #[arg(long)]
    pub reason: Option<String>,
    /// The task the reservation is for.
    #[arg(long)]
    pub task: Option<TaskId>,
}

pub fn reserve(ctx: &Context, args: ReserveArgs) -> CliResult {
    let agent = ctx.agent()?;
    let mode = if args.shared {
        ReservationMode::Shared
    } else {
        ReservationMode::Exclusive
    };
    let made = ctx.api()?.reserve(
        &agent,
        ReserveRequest {
            globs: args.globs,
            mode,
            ttl: args.ttl,
            reason: args.reason,
            task: args.task,
        },
    )?;
    ctx.out.emit(&made, |w| {
        writeln!(w, "Reserved:")?;
        table(w, &made)
    })
}

#[derive(Args, Debug)]
pub struct ReleaseArgs {
    /// The globs to release, as they were reserved.
    #[arg(required_unless_present = "all")]
    pub globs: Vec<String>,
    /// Release every reservation you hold, except the files of tasks you hold in progress.
    #[arg(long, conflicts_with = "globs")]
    pub all: bool,
    /// With --all: release the files of your held tasks too (they are then unguarded while
    /// you still work on them).
    #[arg(long, requires = "all")]
    pub with_task_surfaces: bool,
}

pub fn release(ctx: &Context, args: ReleaseArgs) -> CliResult {
    // clap's `requires` does not hold for a flag beside positional values: checked here.
    if args.with_task_surfaces && !args.all {
        return Err(CliError::invalid(
            "--with-task-surfaces goes with --all: globs are released as named",
        )
        .with_hint("release GLOBS, or --all --with-task-surfaces"));
    }
    let agent = ctx.agent()?;
    let api = ctx.api()?;
    let gone = api.release(
        &agent,
        ReleaseRequest {
            globs: args.globs,
            all: args.all,
            with_task_surfaces: args.with_task_surfaces,
        },
    )?;
    let kept = match args.all && !args.with_task_surfaces {
        true => api.reservations(&ReservationFilter {
            agent: Some(agent.clone()),
            path: None,
        })?,
        false => Vec::new(),
    };
    ctx.out.emit(&gone, |w| {
        if gone.is_empty() {
            writeln!(w, "Nothing to release.")?;
        } else {
            writeln!(w, "Released:")?;
            table(w, &gone)?;
        }
        if !kept.is_empty() {
            writeln!(
                w,
                "Kept {} reservation(s) of tasks you hold in progress; add --with-task-surfaces \
                 to release them too.",
                kept.len()
            )?;
        }
        Ok(())
    })
}

#[derive(Args, Debug)]
pub struct ReservationsArgs {
    /// Only this agent's (`--agent NAME` on the command line works too).
    #[arg(long = "holder", alias = "by")]
    pub holder: Option<String>,
    /// Only those covering this path.
    #[arg(long)]
    pub path: Option<String>,
}

pub fn reservations(ctx: &Context, args: ReservationsArgs) -> CliResult {
    let found = ctx.api()?.reservations(&ReservationFilter {
        agent: ctx.agent_filter(args.holder),
        path: args.path,
    })?;
    ctx.out.emit(&found, |w| table(w, &found))
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Paths relative to the repository root.
    #[arg(required = true)]
    pub paths: Vec<String>,
}

pub fn check(ctx: &Context, args: CheckArgs) -> CliResult {
    let checks = ctx.api()?.check_paths(&args.paths)?;
    ctx.out.emit(&checks, |w| {
        for c in &checks {
            if c.reservations.is_empty() {
                writeln!(w, "{}  free", c.path)?;
            }
            for r in &c.reservations {
                writeln!(
                    w,
                    "{}  {} by {} via {} (until {})",
                    c.path,
                    r.mode.as_str(),
                    r.agent,
                    r.glob,
                    r.expires_at
                )?;
            }
        }
        Ok(())
    })
}

fn table(w: &mut dyn Write, found: &[Reservation]) -> std::io::Result<()> {
    if found.is_empty() {
        return writeln!(w, "No reservations.");
    }
    let mut t = Table::new(&["GLOB", "HOLDER", "MODE", "TASK", "EXPIRES", "REASON"]);
    for r in found {
        t.row(vec![
            cut(&r.glob, 40),
            r.agent.clone(),
            r.mode.as_str().into(),
            r.task.map(|t| t.to_string()).unwrap_or_else(|| "-".into()),
            r.expires_at.to_string(),
            cut(&or_dash(r.reason.as_deref()), 40),
        ]);
    }
    t.write(w)
}
