//! `baton guard`: refuse a commit that touches paths another agent has reserved.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use baton_core::ErrorClass;
use clap::Args;

use super::Context;
use crate::error::{CliError, CliResult};

#[derive(Args, Debug)]
pub struct GuardArgs {
    /// Check the paths staged for the next commit (what the pre-commit hook runs).
    #[arg(long, conflicts_with = "paths")]
    pub staged: bool,
    /// Check these paths instead.
    pub paths: Vec<String>,
    /// Add `baton guard --staged` to .git/hooks/pre-commit (keeps the hook's other content).
    #[arg(long, conflicts_with_all = ["staged", "paths", "remove_hook"])]
    pub install_hook: bool,
    /// Take the guard out of .git/hooks/pre-commit.
    #[arg(long, conflicts_with_all = ["staged", "paths"])]
    pub remove_hook: bool,
}

fn git(root: &Path, args: &[&str]) -> CliResult<Vec<u8>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .map_err(|e| {
            CliError::new(
                ErrorClass::Unavailable,
                "git_unavailable",
                format!("cannot run git: {e}"),
            )
        })?;
    if !out.status.success() {
        return Err(CliError::invalid(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
        .with_hint("run it inside a git repository"));
    }
    Ok(out.stdout)
}

/// Paths in the index that differ from HEAD; a rename counts as both of its paths.
fn staged_paths(root: &Path) -> CliResult<Vec<String>> {
    let raw = git(
        root,
        &["diff", "--cached", "--name-only", "--no-renames", "-z"],
    )?;
    Ok(raw
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect())
}

pub const HOOK_MARKER: &str = "baton guard";

pub fn run(ctx: &Context, args: GuardArgs) -> CliResult {
    let project = ctx.project()?;
    if args.install_hook || args.remove_hook {
        let exe = std::env::current_exe()?;
        let report = if args.install_hook {
            // Blocks the commit when the guard refuses; BATON_AGENT identifies the committer.
            let body = format!(
                "# Refuses commits touching files another agent reserved (bypass: git commit --no-verify).\n\
                 {} guard --staged --human || exit 1\n",
                crate::hook::quote(&exe.to_string_lossy())
            );
            crate::hook::install(&project.root, HOOK_MARKER, &body)?
        } else {
            crate::hook::remove(&project.root, HOOK_MARKER)?
        };
        return ctx.out.emit(&report, |w| {
            writeln!(w, "{} {}", report.change, report.hook.display())
        });
    }
    let paths = if args.staged {
        staged_paths(&project.root)?
    } else if args.paths.is_empty() {
        return Err(CliError::invalid("nothing to check").with_hint("pass --staged or paths"));
    } else {
        args.paths
    };
    let report = ctx.api()?.guard(ctx.agent.as_deref(), &paths)?;
    if !report.shared.is_empty() {
        eprintln!(
            "baton guard: {} path(s) are shared-reserved by other agents",
            report.shared.len()
        );
    }
    ctx.out.emit(&report, |w| {
        writeln!(
            w,
            "OK: {} path(s) checked; none reserved by another agent.",
            report.checked
        )
    })
}

#[derive(Args, Debug)]
#[command(after_help = "\
An edit-time check, for agent CLIs' hooks: `baton generate --hooks` installs it as a
PreToolUse hook for Claude Code (Edit, Write, MultiEdit, NotebookEdit) and Codex
(apply_patch), and `baton runner` passes it to the Codex runs it starts. Without PATH
arguments it reads the hook's JSON from stdin: tool_input.file_path or notebook_path, or
each file an apply_patch patch adds, updates, deletes or moves to (relative to the hook's
cwd). An edit of a file another agent reserved exclusively is refused with exit code 2 and
the holder's name on stderr, which the CLI shows the agent instead of making the edit;
anything else exits 0. The caller is BATON_AGENT, else the session's identity (see
`baton mcp --help`).")]
pub struct EditCheckArgs {
    /// Paths to check (relative to the current directory or absolute); default: the hook's
    /// JSON on stdin.
    pub paths: Vec<PathBuf>,
}

/// Exit code Claude Code and Codex treat as "block this tool call and tell the model why".
const HOOK_BLOCK: u8 = 2;
/// Exit code they treat as "the hook failed": shown, and the tool call goes ahead.
const HOOK_FAILED: u8 = 1;

/// The files a PreToolUse hook's tool call would write: Claude Code's `file_path` or
/// `notebook_path`, or every file a Codex `apply_patch` adds, updates, deletes or moves to
/// (its patch is `tool_input.command`, or the input itself when that is text).
fn hook_paths(hook: &serde_json::Value) -> Vec<PathBuf> {
    let tool = &hook["tool_input"];
    let mut paths: Vec<PathBuf> = ["file_path", "notebook_path", "path"]
        .iter()
        .filter_map(|k| tool[*k].as_str())
        .map(PathBuf::from)
        .collect();
    let patch = tool["command"]
        .as_str()
        .or_else(|| tool["input"].as_str())
        .or_else(|| tool.as_str());
    if let Some(patch) = patch.filter(|p| p.trim_start().starts_with("*** Begin Patch")) {
        paths.extend(patch_paths(patch).into_iter().map(PathBuf::from));
    }
    paths
}

/// The paths named by an apply_patch patch's file headers, in order.
fn patch_paths(patch: &str) -> Vec<&str> {
    const HEADERS: [&str; 4] = [
        "*** Add File: ",
        "*** Update File: ",
        "*** Delete File: ",
        "*** Move to: ",
    ];
    patch
        .lines()
        .filter_map(|line| {
            let line = line.trim_end_matches('\r');
            HEADERS
                .iter()
                .find_map(|h| line.strip_prefix(h))
                .map(str::trim)
                .filter(|p| !p.is_empty())
        })
        .collect()
}

pub fn edit_check(ctx: &Context, args: EditCheckArgs) -> CliResult<Option<u8>> {
    let project = ctx.project()?;
    let mut paths = args.paths;
    let mut cwd = ctx.cwd.clone();
    let args_were_empty = paths.is_empty();
    if paths.is_empty() {
        let mut input = String::new();
        std::io::stdin().take(1 << 20).read_to_string(&mut input)?;
        let hook: serde_json::Value = match serde_json::from_str(&input) {
            Ok(hook) => hook,
            Err(e) => {
                // Exit 2 would block the edit for a fault of the hook's: 1 is the CLIs'
                // "the hook failed", which shows the message and lets the edit go.
                eprintln!(
                    "baton edit-check: the hook's input is not JSON ({e}); nothing was \
                     checked. Pass paths, or run it as a Claude Code or Codex PreToolUse hook."
                );
                return Ok(Some(HOOK_FAILED));
            }
        };
        paths.extend(hook_paths(&hook));
        // Relative paths (a Codex patch's) are relative to the session's directory.
        if let Some(dir) = hook["cwd"].as_str().filter(|d| Path::new(d).is_absolute()) {
            cwd = PathBuf::from(dir);
        }
    }
    let root = project.root.canonicalize().unwrap_or(project.root.clone());
    let relative: Vec<String> = paths
        .iter()
        .filter_map(|p| {
            let absolute = if p.is_absolute() {
                p.clone()
            } else {
                cwd.join(p)
            };
            // A new file has no canonical path yet: its folder does.
            let absolute = match (absolute.parent(), absolute.file_name()) {
                (Some(dir), Some(name)) => dir
                    .canonicalize()
                    .map(|d| d.join(name))
                    .unwrap_or(absolute.clone()),
                _ => absolute,
            };
            // In a linked git worktree of this repository: the same path in the repository.
            // Elsewhere outside it: not Baton's to guard.
            let inside = absolute.strip_prefix(&root).ok().or_else(|| {
                absolute.ancestors().skip(1).find_map(|top| {
                    let main = crate::project::main_checkout(top)?;
                    (main == root).then(|| absolute.strip_prefix(top).ok())?
                })
            })?;
            // In a task's worktree (.baton/worktrees/NAME/): the same path in the repository.
            let inside = match super::watch::in_worktree(inside) {
                Some(Some((_, inner))) => inner,
                Some(None) => return None,
                None => inside,
            };
            Some(inside.to_string_lossy().into_owned())
        })
        .collect();
    let hook = args_were_empty;
    if relative.is_empty() {
        if hook {
            return Ok(None);
        }
        return ctx
            .out
            .emit(&serde_json::json!({"checked": 0}), |_| Ok(()))
            .map(|()| None);
    }
    let api = ctx.api()?;
    match api.guard(ctx.agent.as_deref(), &relative) {
        // As a hook, an allowed edit prints nothing: the CLIs read a hook's standard
        // output as instructions, and Codex refuses JSON it does not know.
        Ok(_) if hook => Ok(None),
        Ok(report) => ctx
            .out
            .emit(&report, |w| {
                writeln!(w, "OK: nobody else reserved these files.")
            })
            .map(|()| None),
        Err(e) if e.code() == "reservation_conflict" => {
            let me = ctx.agent.as_deref();
            let held: Vec<(String, baton_core::Reservation)> = api
                .check_paths(&relative)
                .unwrap_or_default()
                .into_iter()
                .flat_map(|c| {
                    let path = c.path;
                    c.reservations
                        .into_iter()
                        .filter(|r| {
                            r.mode == baton_core::ReservationMode::Exclusive
                                && me != Some(r.agent.as_str())
                        })
                        .map(move |r| (path.clone(), r))
                })
                .collect();
            eprintln!("{}", refusal(me, &held, &e.to_string()));
            Ok(Some(HOOK_BLOCK))
        }
        Err(e) => Err(e.into()),
    }
}

/// What the agent is told when its edit is refused: which file, who holds it, until when,
/// and what to do instead, naming the holder.
fn refusal(me: Option<&str>, held: &[(String, baton_core::Reservation)], fallback: &str) -> String {
    let Some((_, first)) = held.first() else {
        return format!("Baton refused this edit: {fallback}");
    };
    let each: Vec<String> = held
        .iter()
        .map(|(path, r)| {
            let task = r.task.map(|t| format!(" for {t}")).unwrap_or_default();
            format!(
                "{path} is reserved by {} ({}{task}, until {})",
                r.agent, r.glob, r.expires_at
            )
        })
        .collect();
    let who = match me {
        Some(me) => format!("{me} does not hold it"),
        None => "you have no Baton identity (set BATON_AGENT)".to_string(),
    };
    format!(
        "Baton refused this edit: {}. Do not edit it: {who}. Ask {holder} \
         (`baton ask --to {holder} \"...\"`), reserve other files, or pick up other work.",
        each.join("; "),
        holder = first.agent,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_codex_patch_names_every_file_it_writes() {
        let hook = serde_json::json!({
            "tool_name": "apply_patch",
            "cwd": "/repo",
            "tool_input": {"command": "*** Begin Patch\n*** Add File: src/new.rs\n+fn a() {}\n\
                *** Update File: src/auth/login.rs\n*** Move to: src/auth/signin.rs\n@@\n-x\n+y\n\
                *** Delete File: old é.txt\r\n*** End Patch\n"},
        });
        assert_eq!(
            hook_paths(&hook),
            [
                "src/new.rs",
                "src/auth/login.rs",
                "src/auth/signin.rs",
                "old é.txt"
            ]
            .map(PathBuf::from)
        );
        // A freeform patch given as the input itself.
        let text = serde_json::json!({"tool_input": "*** Begin Patch\n*** Add File: a.txt\n+a\n*** End Patch"});
        assert_eq!(hook_paths(&text), [PathBuf::from("a.txt")]);
        // A shell command that merely mentions a header is not a patch.
        let shell = serde_json::json!({"tool_input": {"command": "echo '*** Add File: x'"}});
        assert!(hook_paths(&shell).is_empty());
        // Hunk lines start with +, - or a space, so text that looks like a header is not one.
        let added = serde_json::json!({"tool_input": {"command": "*** Begin Patch\n*** Add File: a.txt\n+*** Add File: b.txt\n*** End Patch"}});
        assert_eq!(hook_paths(&added), [PathBuf::from("a.txt")]);
        let claude = serde_json::json!({"tool_input": {"file_path": "/repo/a.rs", "content": "x"}});
        assert_eq!(hook_paths(&claude), [PathBuf::from("/repo/a.rs")]);
    }
}
