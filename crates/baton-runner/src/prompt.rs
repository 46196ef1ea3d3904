//! The prompt a run starts with: who the agent is and what it holds, the task itself, its
//! context docs, what the tasks it depends on left behind, and how to work with Baton.
//! Bounded: each part is cut, the whole stays under [`MAX_PROMPT`].

use baton_core::{Doc, Task};

use crate::record::cut;

/// The largest prompt (bytes); CLIs take prompts as one argument, and argument lists are
/// limited (128 KiB for one argument on Linux).
pub const MAX_PROMPT: usize = 96 * 1024;
/// The most of one context doc's body that goes into a prompt.
const MAX_DOC: usize = 12 * 1024;
/// The most of one dependency's last note.
const MAX_DEP_NOTE: usize = 2 * 1024;

/// What a prompt is made of.
pub struct PromptParts<'a> {
    pub agent: &'a str,
    pub task: &'a Task,
    pub fence: u64,
    pub branch: &'a str,
    pub docs: &'a [Doc],
    /// The tasks this one depends on, with what they left (their last note).
    pub dependencies: &'a [Task],
}

pub fn build(p: &PromptParts<'_>) -> String {
    let t = p.task;
    let mut out = format!(
        "You are {agent}, an agent coordinated by Baton. You hold task {id} (fence {fence}) \
         and work on it alone, in this git worktree, on branch {branch}.\n\n# Task {id}: {title}\n",
        agent = p.agent,
        id = t.id,
        fence = p.fence,
        branch = p.branch,
        title = t.title,
    );
    if !t.description.trim().is_empty() {
        out.push_str(&format!("\n{}\n", cut(t.description.trim(), MAX_DOC)));
    }
    if !t.acceptance_criteria.is_empty() {
        out.push_str("\n## Acceptance criteria\n");
        for c in &t.acceptance_criteria {
            out.push_str(&format!("- {c}\n"));
        }
    }
    if !t.files.is_empty() {
        out.push_str(&format!(
            "\n## Files\nThis task covers (reserved for you): {}\n",
            t.files.join(", ")
        ));
    }
    if let Some(verify) = t.verify.as_deref().filter(|v| !v.trim().is_empty()) {
        out.push_str(&format!(
            "\n## Verify\nBefore you finish, run `{verify}` and make it pass.\n"
        ));
    }
    if !p.dependencies.is_empty() {
        out.push_str("\n## Work this builds on\n");
        for d in p.dependencies {
            out.push_str(&format!("- {} {} ({})", d.id, d.title, d.status));
            if let Some(note) = d.notes.last() {
                out.push_str(&format!(": {}", cut(note.text.trim(), MAX_DEP_NOTE)));
            }
            out.push('\n');
        }
    }
    for doc in p.docs {
        out.push_str(&format!(
            "\n## Context: {} {}\n{}\n",
            doc.id,
            doc.title,
            cut(doc.body.trim(), MAX_DOC)
        ));
    }
    out.push_str(&format!(
        "\n# How to work\n\
         - Work only on {id}, inside this worktree. Commit your work on this branch with clear \
         messages as you go; uncommitted work is committed for you when the run ends.\n\
         - The `baton` command talks to the board as you (BATON_AGENT={agent}): `baton code \
         symbols --name X` before grepping, `baton docs search WORDS`, `baton reserve GLOB` \
         before editing files outside the task's, `baton ask --to human \"...\"` when you \
         need a person.\n\
         - If you cannot go on, run `baton task block {id} --reason \"...\"` and stop.\n\
         - When the work is committed{verify}, run `baton task done {id} --notes \"what \
         changed and why, in a few lines\"` and stop. Do not pick up other tasks.\n",
        id = t.id,
        agent = p.agent,
        verify = if t.verify.is_some() {
            " and verified"
        } else {
            ""
        },
    ));
    cut(&out, MAX_PROMPT)
}

/// The prompt of a run that resumes the agent's session after `why` ended the last one.
pub fn resume(task: &Task, why: &str) -> String {
    format!(
        "Your previous run on {} ended ({why}). Your uncommitted work was committed on your \
         branch. Continue the task from where you left off; when it is done and committed, \
         run `baton task done {} --notes \"...\"`.",
        task.id, task.id
    )
}

/// What a run is told. Resuming a session, only what is new (`next`). Starting one afresh
/// (the CLI cannot resume, no session was made, or it belongs to another account's home):
/// the whole task first, then what happened since, so that no run starts without the task.
pub fn for_run(first: &str, next: &str, resuming: bool) -> String {
    if resuming || next.contains(first) {
        return next.to_string();
    }
    cut(&format!("{first}\n# Before this run\n{next}\n"), MAX_PROMPT)
}

/// The prompt of a run that answers a person's message about a task the agent worked on
/// (`baton chat`), in the task's worktree, resuming its session when there is one.
pub fn chat(task: &Task, from: &str, message: &str, resumed: bool) -> String {
    let mut out = if resumed {
        format!("{from} writes about your work on {}:\n\n", task.id)
    } else {
        format!(
            "You worked on task {} ({}) in this worktree, on its branch. {from} writes about \
             it:\n\n",
            task.id, task.title
        )
    };
    out.push_str(message.trim());
    out.push_str(
        "\n\nReply in a short message: your last message is sent back as the answer. If they \
         ask for a change, make it here and commit it; do not run `baton task done`.",
    );
    cut(&out, MAX_PROMPT)
}

/// The prompt of a resumed session whose work a reviewer sent back: the feedback and the
/// open comments on its lines (with their replies).
pub fn changes_requested(
    task: &Task,
    feedback: Option<&str>,
    comments: &[baton_core::model::ReviewComment],
) -> String {
    let mut out = format!(
        "A reviewer asked for changes to your work on {}.\n",
        task.id
    );
    if let Some(f) = feedback {
        out.push_str(&format!("\n{}\n", f.trim()));
    }
    let tops: Vec<_> = comments.iter().filter(|c| c.reply_to.is_none()).collect();
    if !tops.is_empty() {
        out.push_str("\nComments on your diff:\n");
        for c in tops {
            let place = match (&c.file, c.line) {
                (Some(f), Some(l)) => format!("{f}:{l} "),
                (Some(f), None) => format!("{f} "),
                _ => String::new(),
            };
            out.push_str(&format!(
                "- {} {place}[{}]: {}\n",
                c.id,
                c.author,
                c.body.trim()
            ));
            for r in comments.iter().filter(|r| r.reply_to == Some(c.id)) {
                out.push_str(&format!("  - [{}]: {}\n", r.author, r.body.trim()));
            }
        }
    }
    out.push_str(&format!(
        "\nMake the changes on your branch and commit them; when done, run `baton task done {} \
         --notes \"what you changed\"`.",
        task.id
    ));
    cut(&out, MAX_PROMPT)
}

/// The prompt of a run that goes back to the agent because the task's verify command
/// failed after it said it was finished.
pub fn verify_failed(task: &Task, summary: &str) -> String {
    format!(
        "The task's verify command failed after your run on {id}:\n\n{summary}\n\nFix the \
         cause, commit, make the command pass, then run `baton task done {id} --notes \"...\"`.",
        id = task.id
    )
}

#[cfg(test)]
mod tests {
    use super::for_run;

    #[test]
    fn a_fresh_run_gets_the_whole_task_and_a_resumed_one_only_the_news() {
        let first = "# Task T-1: Parser\nAccept empty input.";
        let next = "Your previous run on T-1 ended (crashed).";
        assert_eq!(for_run(first, next, true), next);
        let fresh = for_run(first, next, false);
        assert!(fresh.starts_with(first) && fresh.contains(next), "{fresh}");
        // A prompt that already holds the task is not given it twice.
        let whole = format!("A note first.\n\n{first}");
        assert_eq!(for_run(first, &whole, false), whole);
        assert_eq!(for_run(first, first, false), first);
    }
}
