//! `baton board` and `baton agents`: who is doing what.

use baton_core::time::Timestamp;
use baton_core::Agent;

use super::Context;
use crate::error::CliResult;
use crate::output::{id_list, Table};

fn ago(t: Timestamp) -> String {
    let secs = t.millis_until(Timestamp::now()).max(0) / 1000;
    match secs {
        0..=59 => format!("{secs}s ago"),
        60..=3599 => format!("{}m ago", secs / 60),
        3600..=86_399 => format!("{}h ago", secs / 3600),
        _ => format!("{}d ago", secs / 86_400),
    }
}

/// "in 12m" for a time ahead, "5m ago" for one past.
fn when(t: Timestamp) -> String {
    let secs = Timestamp::now().millis_until(t) / 1000;
    if secs < 0 {
        return ago(t);
    }
    match secs {
        0..=59 => format!("in {secs}s"),
        60..=3599 => format!("in {}m", secs / 60),
        3600..=86_399 => format!("in {}h", secs / 3600),
        _ => format!("in {}d", secs / 86_400),
    }
}

/// An agent's state by the lease rules, with when its soonest lease ends.
fn state(agent: &Agent) -> String {
    match agent.lease_expires_at {
        Some(until) => format!("{} (lease ends {})", agent.state.as_str(), when(until)),
        None => agent.state.as_str().to_string(),
    }
}

/// The ids shown, and how many more the agent holds (the board lists only the first).
fn holding(agent: &Agent) -> String {
    let hidden = agent
        .holding_total
        .saturating_sub(agent.holding.len() as u64);
    if hidden == 0 {
        id_list(&agent.holding)
    } else {
        format!(
            "{} and {hidden} more ({} in all)",
            id_list(&agent.holding),
            agent.holding_total
        )
    }
}

/// "... and N more" under a list the board cut short.
fn more(w: &mut dyn std::io::Write, shown: usize, total: u64, what: &str) -> std::io::Result<()> {
    let hidden = total.saturating_sub(shown as u64);
    if hidden > 0 {
        writeln!(w, "  ... and {hidden} more {what} ({total} in all)")?;
    }
    Ok(())
}

pub fn board(ctx: &Context) -> CliResult {
    let summary = ctx.api()?.board()?;
    ctx.out.emit(&summary, |w| {
        let c = &summary.counts;
        writeln!(w, "{} — {} tasks", summary.project, summary.total)?;
        writeln!(
            w,
            "  backlog {}  open {} ({} ready)  in-progress {}  review {}  done {}  blocked {}",
            c.backlog, c.open, summary.ready, c.in_progress, c.review, c.done, c.blocked
        )?;
        if !summary.blocked.is_empty() {
            writeln!(w, "\nBlocked:")?;
            for b in &summary.blocked {
                writeln!(
                    w,
                    "  {}  {} — {}",
                    b.id,
                    b.title,
                    b.reason.as_deref().unwrap_or("no reason")
                )?;
            }
            more(w, summary.blocked.len(), summary.blocked_total, "blocked")?;
        }
        if !summary.agents.is_empty() {
            writeln!(w, "\nAgents:")?;
            let mut table = Table::new(&["AGENT", "STATE", "LAST SEEN", "HOLDING"]);
            for a in &summary.agents {
                table.row(vec![a.name.clone(), state(a), ago(a.last_seen), holding(a)]);
            }
            table.write(w)?;
        }
        if !summary.stale_leases.is_empty() {
            writeln!(w, "\nStale leases:")?;
            for s in &summary.stale_leases {
                writeln!(
                    w,
                    "  {}  held by {}, lease expired {}",
                    s.id,
                    s.assignee.as_deref().unwrap_or("-"),
                    ago(s.lease_expires_at)
                )?;
            }
            more(
                w,
                summary.stale_leases.len(),
                summary.stale_leases_total,
                "stale",
            )?;
        }
        Ok(())
    })
}

pub fn agents(ctx: &Context) -> CliResult {
    let agents = ctx.api()?.agents()?;
    ctx.out.emit(&agents, |w| {
        if agents.is_empty() {
            return writeln!(
                w,
                "No agents yet. They appear on first use (--agent or BATON_AGENT)."
            );
        }
        let mut table = Table::new(&["AGENT", "STATE", "FIRST SEEN", "LAST SEEN", "HOLDING"]);
        for a in &agents {
            table.row(vec![
                a.name.clone(),
                state(a),
                a.first_seen.to_string(),
                ago(a.last_seen),
                id_list(&a.holding),
            ]);
        }
        table.write(w)
    })
}
