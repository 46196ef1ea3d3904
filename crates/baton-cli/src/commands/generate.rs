//! `baton generate`: the agents' protocol in `.baton/AGENTS.md` and `.baton/CLAUDE.md`,
//! a Cursor rule that points to it, a marked pointer to them in the root `AGENTS.md` and
//! `CLAUDE.md` (the user's own
//! content is left as it is), and MCP configuration to paste into Claude Code, Codex and
//! Cursor. `--check` says which of those files this version would write differently.

use std::path::{Path, PathBuf};

use baton_core::ErrorClass;
use clap::Args;
use serde::Serialize;
use serde_json::json;

use super::Context;
use crate::error::{CliError, CliResult};

#[derive(Args, Debug)]
#[command(after_help = "\
Writes .baton/AGENTS.md, .baton/CLAUDE.md and the Cursor rule .cursor/rules/baton.mdc
(replaced on every run: do not edit them), and
adds a marked block to the root CLAUDE.md (an `@.baton/CLAUDE.md` import) and the root
AGENTS.md (a pointer), creating them if needed; text outside the block is never changed.
Then prints MCP configuration for Claude Code (.mcp.json), Codex (~/.codex/config.toml)
and Cursor (.cursor/mcp.json). Nothing goes over the network.
--check changes nothing: it lists missing or stale files and exits 4 if there are any.")]
pub struct GenerateArgs {
    /// Only report files that are missing or stale for this version (exit 4 if any).
    #[arg(long)]
    pub check: bool,
    /// Also add Baton's edit-time check as a PreToolUse hook for Claude Code
    /// (.claude/settings.json: Edit, Write, MultiEdit, NotebookEdit) and Codex
    /// (.codex/hooks.json: apply_patch): `baton edit-check` refuses an edit of a file
    /// another agent reserved and names the holder. The files' other content is kept.
    /// Commit them so that task worktrees carry them.
    #[arg(long, conflicts_with = "check")]
    pub hooks: bool,
}

/// Where each CLI reads project hooks, and which of its tools edit files (the hook entry's
/// matcher). Both files hold `{"hooks": {"PreToolUse": [{matcher, hooks}]}}`.
const EDIT_HOOKS: [(&str, &str); 2] = [
    (".claude/settings.json", "Edit|Write|MultiEdit|NotebookEdit"),
    // Codex edits files with apply_patch; it also matches a Write|Edit matcher by alias.
    (".codex/hooks.json", "apply_patch"),
];
/// How our entry is recognised when written again.
const EDIT_CHECK: &str = "edit-check";

/// Adds (or refreshes) the edit-time check in one CLI's hook file; answers what it did.
fn install_edit_hook(path: &Path, matcher: &str, baton: &str) -> CliResult<&'static str> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    let mut settings: serde_json::Value = match &existing {
        Some(text) => serde_json::from_str(text).map_err(|e| {
            CliError::invalid(format!("{} is not valid JSON: {e}", path.display()))
                .with_hint("fix it, then run `baton generate --hooks` again")
        })?,
        None => json!({}),
    };
    let Some(object) = settings.as_object_mut() else {
        return Err(CliError::invalid(format!(
            "{} is not a JSON object",
            path.display()
        )));
    };
    let hooks = object.entry("hooks").or_insert_with(|| json!({}));
    let Some(hooks) = hooks.as_object_mut() else {
        return Err(CliError::invalid(format!(
            "\"hooks\" in {} is not an object",
            path.display()
        )));
    };
    let pre = hooks.entry("PreToolUse").or_insert_with(|| json!([]));
    let Some(pre) = pre.as_array_mut() else {
        return Err(CliError::invalid(format!(
            "\"hooks.PreToolUse\" in {} is not a list",
            path.display()
        )));
    };
    let ours = |entry: &serde_json::Value| {
        entry["hooks"].as_array().is_some_and(|list| {
            list.iter().any(|h| {
                h["command"]
                    .as_str()
                    .is_some_and(|c| c.ends_with(&format!(" {EDIT_CHECK}")))
            })
        })
    };
    pre.retain(|entry| !ours(entry));
    pre.push(json!({
        "matcher": matcher,
        "hooks": [{"type": "command", "command": format!("{baton} {EDIT_CHECK}")}],
    }));
    let text = serde_json::to_string_pretty(&settings)
        .map_err(|e| CliError::invalid(e.to_string()))?
        + "\n";
    if existing.as_deref() == Some(text.as_str()) {
        return Ok("current");
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, &text)?;
    std::fs::rename(&tmp, path)?;
    Ok(if existing.is_some() {
        "updated"
    } else {
        "created"
    })
}

const BEGIN: &str = "<!-- baton:begin (written by `baton generate`; edits inside are replaced) -->";
const END: &str = "<!-- baton:end -->";

fn protocol(reader: &str) -> String {
    format!(
        "<!-- Written by baton {version} (`baton generate`). Do not edit: run it again after upgrading. -->
# Working here with Baton

Several agents share this repository; Baton hands out the work and keeps you from colliding.
{reader} Use the MCP tools of the `baton` server, or the CLI (`baton ... --json`). Your name
is BATON_AGENT (or the tools' `agent` argument); with a pattern such as `claude-*` each
session gets its own (`claude-1`, `claude-2`), and the commands you run share it.

1. **Start**: `inbox` (`baton inbox`) for questions to you and answers to yours; `task` with
   `assignee: \"me\"` (`baton task mine`) for work you already hold.
2. **Pick up**: `pickup` (`baton task pickup`) claims the best ready task and reserves its
   files. Work only on tasks you picked up.
3. **Heartbeat**: `heartbeat` (`baton heartbeat`) every few minutes; a task whose lease
   runs out goes back to the queue.
4. **Reserve** before editing files outside your task's: `reserve` with `globs`
   (`baton reserve GLOB`). A refusal names the holder: choose other work, or `ask` them.
   Never edit files someone else reserved.
5. **Code before grep**: `code` (`baton code symbols --name X`, `outline FILE`,
   `imports --file F`, `dependents --file F`) answers from the index; then read only the
   lines it points to.
6. **Docs**: `docs` with `q` (`baton docs search WORDS`) before deciding; record decisions
   and lessons with `doc_write` (`baton docs write`).
7. **Ask** when you need a person or another agent: `ask` (`baton ask --to human \"...\"`).
   If you cannot go on, `block` the task with the reason.
8. **Done**: run the task's `verify` command, then `done` with notes on what changed and a
   `summary` for the tasks that depend on yours (`baton task done T-n --notes \"...\"
   --summary \"...\"`; a pickup shows you its dependencies' summaries), and pick up the next.
9. **Plan tasks** (category plan, detail, refine) do not change code: propose the phases and
   tasks with `plan` op `propose` (`baton proposal add`) for a person to accept.
",
        version = env!("CARGO_PKG_VERSION"),
    )
}

/// Each file this command manages, and what it should hold.
struct Managed {
    path: PathBuf,
    /// The whole file (generated), or only the marked block (a user's file).
    whole: bool,
    content: String,
}

fn managed(root: &Path) -> Vec<Managed> {
    vec![
        Managed {
            path: root.join(".baton/AGENTS.md"),
            whole: true,
            content: protocol("This is the protocol for every agent."),
        },
        Managed {
            path: root.join(".baton/CLAUDE.md"),
            whole: true,
            content: protocol("This is the protocol for Claude Code and every other agent."),
        },
        Managed {
            path: root.join(".cursor/rules/baton.mdc"),
            whole: true,
            content: format!(
                "---\ndescription: How agents coordinate on this repository (Baton)\nalwaysApply: true\n---\n\
                 <!-- Written by baton {} (`baton generate`). Do not edit: run it again after upgrading. -->\n\
                 Follow the protocol in @.baton/AGENTS.md\n",
                env!("CARGO_PKG_VERSION")
            ),
        },
        Managed {
            path: root.join("CLAUDE.md"),
            whole: false,
            content: "@.baton/CLAUDE.md".to_string(),
        },
        Managed {
            path: root.join("AGENTS.md"),
            whole: false,
            content:
                "Agents: follow the coordination protocol in [.baton/AGENTS.md](.baton/AGENTS.md)."
                    .to_string(),
        },
    ]
}

/// The text of `existing` with Baton's block holding `inner`: replaced where it is,
/// appended (after a blank line) where it is not. The rest is kept byte for byte.
fn with_block(existing: &str, inner: &str) -> String {
    let block = format!("{BEGIN}\n{inner}\n{END}");
    if let Some(start) = existing.find(BEGIN) {
        if let Some(end) = existing[start..].find(END) {
            let end = start + end + END.len();
            return format!("{}{block}{}", &existing[..start], &existing[end..]);
        }
    }
    if existing.trim().is_empty() {
        return format!("{block}\n");
    }
    let sep = if existing.ends_with("\n\n") {
        ""
    } else if existing.ends_with('\n') {
        "\n"
    } else {
        "\n\n"
    };
    format!("{existing}{sep}{block}\n")
}

#[derive(Serialize)]
struct FileState {
    file: String,
    state: &'static str,
}

fn wanted(m: &Managed) -> CliResult<(Option<String>, String)> {
    let existing = match std::fs::read_to_string(&m.path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(CliError::new(
                ErrorClass::Unavailable,
                "io_error",
                format!("cannot read {}: {e}", m.path.display()),
            ))
        }
    };
    let want = if m.whole {
        m.content.clone()
    } else {
        with_block(existing.as_deref().unwrap_or(""), &m.content)
    };
    Ok((existing, want))
}

fn mcp_config(baton: &str) -> serde_json::Value {
    let server =
        |agent: &str| json!({"command": baton, "args": ["mcp"], "env": {"BATON_AGENT": agent}});
    json!({
        "claude_code": {"file": ".mcp.json", "config": {"mcpServers": {"baton": server("claude-*")}}},
        "cursor": {"file": ".cursor/mcp.json", "config": {"mcpServers": {"baton": server("cursor-*")}}},
        "codex": {"file": "~/.codex/config.toml", "config": format!(
            "[mcp_servers.baton]\ncommand = {baton:?}\nargs = [\"mcp\"]\nenv = {{ BATON_AGENT = \"codex-*\" }}\n"
        )},
    })
}

/// `baton` when the one on PATH is this binary, else this binary's full path.
fn baton_command() -> String {
    let me = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok());
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("baton"))
            .find(|p| p.is_file())
            .and_then(|p| p.canonicalize().ok())
    });
    match (me, on_path) {
        (Some(me), Some(found)) if me == found => "baton".to_string(),
        (Some(me), _) => me.display().to_string(),
        _ => "baton".to_string(),
    }
}

pub fn run(ctx: &Context, args: GenerateArgs) -> CliResult {
    let root = ctx.project()?.root;
    let files = managed(&root);
    let rel = |p: &Path| p.strip_prefix(&root).unwrap_or(p).display().to_string();
    let mut states = Vec::new();
    for m in &files {
        let (existing, want) = wanted(m)?;
        let state = match existing {
            None => "missing",
            Some(text) if text == want => "current",
            Some(_) => "stale",
        };
        if !args.check && state != "current" {
            if let Some(dir) = m.path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&m.path, want)?;
        }
        let state = match (args.check, state) {
            (true, s) => s,
            (false, "missing") => "created",
            (false, "stale") => "updated",
            (false, s) => s,
        };
        states.push(FileState {
            file: rel(&m.path),
            state,
        });
    }
    if args.check {
        let stale: Vec<&FileState> = states.iter().filter(|s| s.state != "current").collect();
        if !stale.is_empty() {
            let list: Vec<String> = stale
                .iter()
                .map(|s| format!("{} ({})", s.file, s.state))
                .collect();
            return Err(CliError::new(
                ErrorClass::Conflict,
                "generated_files_stale",
                format!(
                    "not what baton {} writes: {}",
                    env!("CARGO_PKG_VERSION"),
                    list.join(", ")
                ),
            )
            .with_hint("run `baton generate` to rewrite them"));
        }
        return ctx.out.emit(&json!({"files": states}), |w| {
            writeln!(w, "All generated files are current.")
        });
    }
    let baton = baton_command();
    if args.hooks {
        for (file, matcher) in EDIT_HOOKS {
            let path = root.join(file);
            let state = install_edit_hook(&path, matcher, &baton)?;
            states.push(FileState {
                file: rel(&path),
                state,
            });
        }
    }
    let mcp = mcp_config(&baton);
    let report = json!({"files": states, "mcp": mcp});
    ctx.out.emit(&report, |w| {
        for s in &states {
            writeln!(w, "{:<8} {}", s.state, s.file)?;
        }
        if args.hooks {
            writeln!(
                w,
                "\nCommit the hook files so that task worktrees carry them. Codex runs a \
                 project's hooks once the project is trusted and you have reviewed the hook \
                 (/hooks in Codex); `baton runner` gives the Codex runs it starts the check \
                 itself."
            )?;
        }
        writeln!(w)?;
        writeln!(
            w,
            "MCP configuration (BATON_AGENT=claude-* gives each session its own name: \
             claude-1, claude-2, ...; commands the session runs act as it too):"
        )?;
        for (client, key) in [
            ("Claude Code", "claude_code"),
            ("Cursor", "cursor"),
            ("Codex", "codex"),
        ] {
            let entry = &mcp[key];
            writeln!(
                w,
                "\n{client}, in {}:",
                entry["file"].as_str().unwrap_or("")
            )?;
            match &entry["config"] {
                serde_json::Value::String(toml) => write!(w, "{toml}")?,
                config => writeln!(
                    w,
                    "{}",
                    serde_json::to_string_pretty(config).unwrap_or_default()
                )?,
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_is_appended_once_and_replaced_in_place() {
        let user = "# My notes\n\nKeep tabs.";
        let once = with_block(user, "@.baton/CLAUDE.md");
        assert!(once.starts_with("# My notes\n\nKeep tabs.\n\n<!-- baton:begin"));
        assert_eq!(with_block(&once, "@.baton/CLAUDE.md"), once);
        let moved = once.replace("Keep tabs.", "Keep tabs.\n\nMore notes.") + "\nAfter.\n";
        let updated = with_block(&moved, "@.baton/NEW.md");
        assert_eq!(
            updated,
            moved.replace("@.baton/CLAUDE.md", "@.baton/NEW.md")
        );
        assert_eq!(with_block("", "x"), format!("{BEGIN}\nx\n{END}\n"));
    }
}
