//! Core's hints name CLI commands (`baton task pickup --id T-3`). A model talking MCP has
//! tools instead: where a command has a tool, the hint names the tool and its arguments
//! (`pickup {"id":"T-3"}`). Commands without one (a person's: reviews, tokens, servers)
//! stay as they are, for the model to pass on.

use serde_json::{Map, Value};

use crate::tools;

/// `hint` with each backticked `baton ...` command that has a tool written as that call.
pub fn for_tools(hint: &str) -> String {
    let mut out = String::with_capacity(hint.len());
    let mut rest = hint;
    while let Some(open) = rest.find('`') {
        let Some(len) = rest[open + 1..].find('`') else {
            break;
        };
        let span = &rest[open + 1..open + 1 + len];
        out.push_str(&rest[..=open]);
        match as_call(span) {
            Some(call) => out.push_str(&call),
            None => out.push_str(span),
        }
        out.push('`');
        rest = &rest[open + len + 2..];
    }
    out.push_str(rest);
    out
}

/// The words of a command: split at spaces, a `"quoted text"` one word without its quotes.
fn words(command: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut rest = command.trim_start();
    while !rest.is_empty() {
        let (word, after) = match rest.strip_prefix('"') {
            Some(quoted) => match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            },
            None => rest.split_once(' ').unwrap_or((rest, "")),
        };
        words.push(word);
        rest = after.trim_start();
    }
    words
}

/// `command` as a tool call, if it is a `baton` command that has a tool.
fn as_call(command: &str) -> Option<String> {
    let words = words(command);
    // The tool, whether the first word after the command is the item's id, and the rest.
    let (tool, id_first, rest): (&str, bool, &[&str]) = match words.as_slice() {
        ["baton", "task", "pickup", rest @ ..] => ("pickup", false, rest),
        ["baton", "task", "show", rest @ ..] => ("task", true, rest),
        ["baton", "task", "list", rest @ ..] => ("task", false, rest),
        ["baton", "task", "done", rest @ ..] => ("done", true, rest),
        ["baton", "task", "block" | "unblock", rest @ ..] => ("block", true, rest),
        ["baton", "task", "update", rest @ ..] => ("task_update", true, rest),
        ["baton", "task", "add", rest @ ..] => ("task_add", false, rest),
        ["baton", "task", "note", rest @ ..] => ("note", true, rest),
        ["baton", "heartbeat", rest @ ..] => ("heartbeat", false, rest),
        ["baton", "ask", rest @ ..] => ("ask", false, rest),
        ["baton", "inbox", rest @ ..] => ("inbox", false, rest),
        ["baton", "answer", rest @ ..] => ("answer", true, rest),
        ["baton", "docs", "list" | "search", rest @ ..] => ("docs", false, rest),
        ["baton", "docs", "read" | "show", rest @ ..] => ("docs", true, rest),
        ["baton", "docs", "write", rest @ ..] => ("doc_write", false, rest),
        _ => return None,
    };
    let params = tools::param_names(tool)?;
    let mut flags = Map::new();
    let mut positional = Vec::new();
    let mut rest = rest.iter().peekable();
    while let Some(word) = rest.next() {
        let Some(flag) = word.strip_prefix("--") else {
            positional.push(*word);
            continue;
        };
        // A flag takes the next word as its value, unless that is a flag too.
        let value = match rest.next_if(|next| !next.starts_with("--")) {
            Some(value) => Value::from(*value),
            None => Value::Bool(true),
        };
        let key = flag.replace('-', "_");
        if params.contains(&key.as_str()) {
            flags.insert(key, value);
        }
    }
    // In the order a person would write them: the id, the flags, then the text.
    let mut args = Map::new();
    let mut positional = positional.into_iter();
    if id_first {
        if let Some(id) = positional.next() {
            args.insert("id".into(), id.into());
        }
    }
    args.extend(flags);
    if words.get(2) == Some(&"unblock") {
        args.insert("unblock".into(), Value::Bool(true));
    }
    if let Some(text) = positional.next().filter(|_| params.contains(&"text")) {
        args.insert("text".into(), text.into());
    }
    Some(if args.is_empty() {
        tool.to_string()
    } else {
        format!("{tool} {}", Value::Object(args))
    })
}

#[cfg(test)]
mod tests {
    use super::for_tools;

    #[test]
    fn commands_with_a_tool_become_its_call_and_the_rest_stay() {
        for (cli, mcp) in [
            (
                "claim it again with `baton task pickup --id T-3` if you still work on it, and \
                 keep its lease alive with `baton heartbeat`; or pick up other work",
                "claim it again with `pickup {\"id\":\"T-3\"}` if you still work on it, and \
                 keep its lease alive with `heartbeat`; or pick up other work",
            ),
            (
                "coordinate with ada (`baton ask --to ada --task T-3 \"...\"`) before touching it",
                "coordinate with ada (`ask {\"to\":\"ada\",\"text\":\"...\"}`) before touching it",
            ),
            (
                "address the feedback, then `baton task done T-9` again (read it with `baton task show T-9`)",
                "address the feedback, then `done {\"id\":\"T-9\"}` again (read it with `task {\"id\":\"T-9\"}`)",
            ),
            ("list tasks with `baton task list`", "list tasks with `task`"),
            ("see your messages with `baton inbox --all`", "see your messages with `inbox {\"all\":true}`"),
            (
                "reopen it with `baton task unblock T-2`, or `baton task update T-2 --status open`",
                "reopen it with `block {\"id\":\"T-2\",\"unblock\":true}`, or `task_update {\"id\":\"T-2\",\"status\":\"open\"}`",
            ),
            // A person's commands, other code and an unclosed quote are left as they are.
            ("ask a reviewer to run `baton task reject T-1`", "ask a reviewer to run `baton task reject T-1`"),
            ("create one with `baton token create ci`", "create one with `baton token create ci`"),
            ("set `BATON_TOKEN`", "set `BATON_TOKEN`"),
            ("a stray ` `baton heartbeat", "a stray ` `baton heartbeat"),
            ("", ""),
        ] {
            assert_eq!(for_tools(cli), mcp);
        }
    }

    #[test]
    fn flags_a_tool_does_not_take_are_dropped() {
        assert_eq!(
            for_tools("`baton task pickup --id T-1 --json --dry-run`"),
            "`pickup {\"id\":\"T-1\"}`"
        );
        assert_eq!(
            for_tools("`baton task block T-4 --reason ...`"),
            "`block {\"id\":\"T-4\",\"reason\":\"...\"}`"
        );
    }
}
