//! Providers are data: a TOML file says how to start a CLI headless, how the prompt reaches
//! it, how to resume a session, which output format it prints (an adapter name), and which
//! environment variable selects an account. Baton ships definitions (`providers/*.toml`);
//! a user adds or overrides one with a file of the same shape, without rebuilding.
//!
//! ```toml
//! name = "claude"
//! description = "Claude Code"
//! command = "claude"
//! args = ["-p", "{prompt}", "--output-format", "stream-json", "--verbose"]
//! resume_args = ["-p", "{prompt}", "--resume", "{session}", "--output-format", "stream-json", "--verbose"]
//! format = "claude-stream-json"
//! account_env = "CLAUDE_CONFIG_DIR"
//! [env]
//! DISABLE_AUTOUPDATER = "1"
//! ```
//!
//! Placeholders in `args` and `resume_args`: `{prompt}`, `{session}` (resume only),
//! `{workdir}`, `{max_turns}`, and `{name}`: a session name Baton gives the task
//! (`baton-T-7`), for a CLI whose output names no session but which resumes one by the
//! name it was started with. With `prompt = "stdin"` the prompt is written to the CLI's
//! standard input instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::adapters::FORMATS;

/// The definitions Baton ships, by file name.
const BUILTIN: [(&str, &str); 9] = [
    ("claude.toml", include_str!("../providers/claude.toml")),
    ("codex.toml", include_str!("../providers/codex.toml")),
    ("gemini.toml", include_str!("../providers/gemini.toml")),
    ("cursor.toml", include_str!("../providers/cursor.toml")),
    ("amp.toml", include_str!("../providers/amp.toml")),
    ("opencode.toml", include_str!("../providers/opencode.toml")),
    ("goose.toml", include_str!("../providers/goose.toml")),
    ("aider.toml", include_str!("../providers/aider.toml")),
    ("command.toml", include_str!("../providers/command.toml")),
];

/// A provider file that cannot be used, and why.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no provider named '{name}' (known: {known})")]
    Unknown { name: String, known: String },
}

/// How the prompt reaches the CLI.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptVia {
    /// In an argument, where `{prompt}` stands.
    #[default]
    Arg,
    /// On standard input, which is then closed.
    Stdin,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// The name runs and agents are called by (`claude` -> agents `claude-1`, `claude-2`).
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The program (found on PATH unless a path is given).
    pub command: String,
    /// Arguments of a new run.
    pub args: Vec<String>,
    /// Arguments of a run that resumes a session; none: the CLI cannot resume.
    #[serde(default)]
    pub resume_args: Option<Vec<String>>,
    #[serde(default)]
    pub prompt: PromptVia,
    /// The output format, one of the adapters' ([`FORMATS`]).
    pub format: String,
    /// The environment variable that selects an account (a config directory or a key).
    #[serde(default)]
    pub account_env: Option<String>,
    /// Fixed environment for every run.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// What to start for one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    pub program: String,
    pub args: Vec<String>,
    /// Written to standard input, which is then closed (closed at once when `None`).
    pub stdin: Option<String>,
    pub env: Vec<(String, String)>,
}

/// What a run needs filled into the provider's arguments.
pub struct RunSpec<'a> {
    pub prompt: &'a str,
    /// The session to resume, when the provider can.
    pub session: Option<&'a str>,
    pub workdir: &'a Path,
    pub max_turns: Option<u32>,
    /// The session name Baton gives the task (`{name}`).
    pub name: &'a str,
}

const PLACEHOLDERS: [&str; 5] = [
    "{prompt}",
    "{session}",
    "{workdir}",
    "{max_turns}",
    "{name}",
];

impl Provider {
    /// Reads and checks one provider file's text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Provider, ProviderError> {
        let invalid = |message: String| ProviderError::Invalid {
            file: file.to_string(),
            message,
        };
        let p: Provider = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let name_ok = !p.name.is_empty()
            && p.name.len() <= 32
            && p.name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !name_ok {
            return Err(invalid(format!(
                "name '{}' must be 1-32 lowercase letters, digits or '-' (agents are named \
                 name-1, name-2, ...)",
                p.name
            )));
        }
        if p.command.trim().is_empty() {
            return Err(invalid("command is empty".into()));
        }
        if !FORMATS.contains(&p.format.as_str()) {
            return Err(invalid(format!(
                "format '{}' is not one Baton reads; use one of: {}",
                p.format,
                FORMATS.join(", ")
            )));
        }
        let lists = std::iter::once(("args", &p.args))
            .chain(p.resume_args.iter().map(|r| ("resume_args", r)));
        for (field, list) in lists {
            for arg in list.iter() {
                if let Some(bad) = unknown_placeholder(arg) {
                    return Err(invalid(format!(
                        "{field}: unknown placeholder {bad} (known: {})",
                        PLACEHOLDERS.join(" ")
                    )));
                }
            }
            let has_prompt = list.iter().any(|a| a.contains("{prompt}"));
            if p.prompt == PromptVia::Arg && !has_prompt {
                return Err(invalid(format!(
                    "{field} has no {{prompt}}; add it, or set prompt = \"stdin\""
                )));
            }
        }
        if let Some(resume) = &p.resume_args {
            if !resume.iter().any(|a| a.contains("{session}")) {
                return Err(invalid("resume_args has no {session}".into()));
            }
        }
        if p.args.iter().any(|a| a.contains("{session}")) {
            return Err(invalid(
                "args has {session}; only resume_args may name the session".into(),
            ));
        }
        Ok(p)
    }

    /// The definitions Baton ships.
    pub fn builtin() -> Vec<Provider> {
        BUILTIN
            .iter()
            .map(|(file, text)| {
                Provider::parse(file, text).unwrap_or_else(|e| panic!("shipped provider: {e}"))
            })
            .collect()
    }

    /// The shipped definitions, overridden and extended by the `*.toml` files in `dirs`
    /// (later directories win). A missing directory is skipped; a bad file is an error.
    pub fn load(dirs: &[PathBuf]) -> Result<Vec<Provider>, ProviderError> {
        let mut by_name: BTreeMap<String, Provider> = Provider::builtin()
            .into_iter()
            .map(|p| (p.name.clone(), p))
            .collect();
        for dir in dirs {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut files: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect();
            files.sort();
            for path in files {
                let text =
                    std::fs::read_to_string(&path).map_err(|source| ProviderError::Read {
                        path: path.clone(),
                        source,
                    })?;
                let p = Provider::parse(&path.display().to_string(), &text)?;
                by_name.insert(p.name.clone(), p);
            }
        }
        Ok(by_name.into_values().collect())
    }

    /// The provider called `name` among `providers`.
    pub fn find<'p>(providers: &'p [Provider], name: &str) -> Result<&'p Provider, ProviderError> {
        providers
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| ProviderError::Unknown {
                name: name.to_string(),
                known: providers
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Whether a run can resume a session.
    pub fn can_resume(&self) -> bool {
        self.resume_args.is_some()
    }

    /// Whether a new session is started under the name Baton gives it (`{name}` in
    /// `args`): that name is then the session to resume.
    pub fn names_sessions(&self) -> bool {
        self.args.iter().any(|a| a.contains("{name}"))
    }

    /// The program, arguments, input and environment of one run. A session to resume is
    /// used when the provider can resume, else the run starts afresh.
    pub fn invocation(&self, run: &RunSpec<'_>) -> Invocation {
        let (template, session) = match (&self.resume_args, run.session) {
            (Some(resume), Some(session)) => (resume, session),
            _ => (&self.args, ""),
        };
        let prompt_in_arg = if self.prompt == PromptVia::Arg {
            run.prompt
        } else {
            ""
        };
        let workdir = run.workdir.display().to_string();
        let max_turns = run.max_turns.map(|n| n.to_string()).unwrap_or_default();
        let args = template
            .iter()
            .map(|a| {
                // One pass per placeholder over the template only: a prompt that contains
                // "{session}" is never expanded again.
                fill(
                    a,
                    &[
                        ("{prompt}", prompt_in_arg),
                        ("{session}", session),
                        ("{workdir}", &workdir),
                        ("{max_turns}", &max_turns),
                        ("{name}", run.name),
                    ],
                )
            })
            .collect();
        Invocation {
            program: self.command.clone(),
            args,
            stdin: (self.prompt == PromptVia::Stdin).then(|| run.prompt.to_string()),
            env: self
                .env
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }
}

/// `template` with each placeholder replaced, scanning the template once.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    'scan: while !rest.is_empty() {
        for (name, value) in values {
            if let Some(after) = rest.strip_prefix(name) {
                out.push_str(value);
                rest = after;
                continue 'scan;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

/// The first `{word}` in `arg` that is not a known placeholder.
fn unknown_placeholder(arg: &str) -> Option<String> {
    let mut rest = arg;
    while let Some(start) = rest.find('{') {
        let after = &rest[start..];
        let end = after.find('}')?;
        let word = &after[..=end];
        let is_word = word[1..word.len() - 1]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_');
        if is_word && !PLACEHOLDERS.contains(&word) {
            return Some(word.to_string());
        }
        rest = &after[end + 1..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec<'a>(prompt: &'a str, session: Option<&'a str>) -> RunSpec<'a> {
        RunSpec {
            prompt,
            session,
            workdir: Path::new("/work/tree"),
            max_turns: Some(30),
            name: "baton-T-1",
        }
    }

    #[test]
    fn every_shipped_provider_reads_and_names_a_known_format() {
        let all = Provider::builtin();
        let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
        for expected in [
            "claude", "codex", "gemini", "cursor", "amp", "opencode", "goose", "aider", "command",
        ] {
            assert!(names.contains(&expected), "{names:?}");
        }
    }

    #[test]
    fn a_prompt_is_one_argument_and_is_never_expanded_again() {
        let claude = Provider::find(&Provider::builtin(), "claude")
            .unwrap()
            .clone();
        let run = claude.invocation(&spec("fix {session} and {workdir} now", None));
        assert_eq!(run.program, "claude");
        let i = run.args.iter().position(|a| a == "-p").unwrap();
        assert_eq!(run.args[i + 1], "fix {session} and {workdir} now");
        assert!(run.stdin.is_none());
    }

    #[test]
    fn resume_uses_the_resume_arguments_with_the_session() {
        let claude = Provider::find(&Provider::builtin(), "claude")
            .unwrap()
            .clone();
        let run = claude.invocation(&spec("continue", Some("sess-42")));
        assert!(
            run.args.windows(2).any(|w| w == ["--resume", "sess-42"]),
            "{:?}",
            run.args
        );
        let aider = Provider::find(&Provider::builtin(), "aider")
            .unwrap()
            .clone();
        assert!(!aider.can_resume());
        let fresh = aider.invocation(&spec("do it", Some("ignored")));
        assert!(!fresh.args.iter().any(|a| a.contains("ignored")));
    }

    #[test]
    fn a_user_file_adds_a_provider_and_overrides_a_shipped_one() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().to_path_buf();
        std::fs::write(
            dir.join("script.toml"),
            "name = \"script\"\ncommand = \"./agent.sh\"\nargs = []\nprompt = \"stdin\"\nformat = \"plain\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("claude.toml"),
            "name = \"claude\"\ncommand = \"/opt/claude/bin/claude\"\nargs = [\"-p\", \"{prompt}\"]\nformat = \"claude-stream-json\"\n",
        )
        .unwrap();
        let all = Provider::load(&[dir.clone(), dir.join("missing")]).unwrap();
        let script = Provider::find(&all, "script").unwrap();
        let run = script.invocation(&spec("the task", None));
        assert_eq!(run.stdin.as_deref(), Some("the task"));
        assert_eq!(
            Provider::find(&all, "claude").unwrap().command,
            "/opt/claude/bin/claude"
        );
        let e = Provider::find(&all, "nope").unwrap_err().to_string();
        assert!(e.contains("script") && e.contains("codex"), "{e}");
    }

    #[test]
    fn bad_provider_files_say_what_is_wrong() {
        let cases = [
            ("name = \"Claude\"\ncommand = \"c\"\nargs = [\"{prompt}\"]\nformat = \"plain\"", "lowercase"),
            ("name = \"x\"\ncommand = \"c\"\nargs = [\"{prompt}\"]\nformat = \"xml\"", "format 'xml'"),
            ("name = \"x\"\ncommand = \"c\"\nargs = [\"-p\"]\nformat = \"plain\"", "no {prompt}"),
            ("name = \"x\"\ncommand = \"c\"\nargs = [\"{promt}\"]\nformat = \"plain\"", "{promt}"),
            ("name = \"x\"\ncommand = \"c\"\nargs = [\"{prompt}\"]\nresume_args = [\"{prompt}\"]\nformat = \"plain\"", "no {session}"),
            ("name = \"x\"\ncommand = \"c\"\nargs = [\"{prompt}\"]\nformat = \"plain\"\ncolour = 1", "colour"),
            ("name = \"x\"\ncommand = \" \"\nargs = [\"{prompt}\"]\nformat = \"plain\"", "command is empty"),
        ];
        for (text, expected) in cases {
            let e = Provider::parse("p.toml", text).unwrap_err().to_string();
            assert!(e.contains(expected), "{expected}: {e}");
            assert!(e.starts_with("p.toml"), "{e}");
        }
        // JSON-looking braces are not placeholders.
        assert!(Provider::parse(
            "p.toml",
            "name = \"x\"\ncommand = \"c\"\nargs = [\"{prompt}\", \"--config\", \"{\\\"a\\\": 1}\"]\nformat = \"plain\""
        )
        .is_ok());
    }
}
