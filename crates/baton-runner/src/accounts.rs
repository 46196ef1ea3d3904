//! Provider accounts with failover. Each account is a set of environment variables for the
//! CLI (a config directory such as `CLAUDE_CONFIG_DIR` or `CODEX_HOME`, or an API key),
//! listed in a file on the runner's machine: secrets never reach the board.
//!
//! ```toml
//! # .baton/accounts.toml (kept out of git)
//! [[account]]
//! provider = "claude"
//! name = "team-a"
//! env = { CLAUDE_CONFIG_DIR = "/home/me/.claude-team-a" }
//! ```
//!
//! An account is available, cooling until a reset time (rate limit, quota), or disabled
//! (credentials refused: a person must look). The least recently used available account
//! goes first. The states are kept in a file beside the run logs, so a restarted runner
//! still knows which accounts are cooling.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use baton_core::time::Timestamp;
use serde::{Deserialize, Serialize};

/// How long an account cools when its provider gave no reset time.
pub const DEFAULT_COOLING: Duration = Duration::from_secs(15 * 60);

/// The name of the implicit account of a provider without listed accounts: the runner's
/// own environment.
pub const AMBIENT: &str = "default";

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountsFile {
    #[serde(default, rename = "account")]
    accounts: Vec<Account>,
}

/// One account: its name and the environment that selects it.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub provider: String,
    pub name: String,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// Values may be secrets: only the variables' names are ever printed.
impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&String> = self.env.keys().collect();
        f.debug_struct("Account")
            .field("provider", &self.provider)
            .field("name", &self.name)
            .field("env", &format_args!("{names:?} = ***"))
            .finish()
    }
}

/// What is known of one account.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooling_until: Option<Timestamp>,
    /// Why it was disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<Timestamp>,
}

/// What the next run can use.
#[derive(Debug, PartialEq)]
pub enum Pick {
    Use(Account),
    /// Every account is cooling; the first is back at this time.
    WaitUntil(Timestamp),
    /// No account can be used (all disabled): why.
    Nothing(String),
}

/// One provider's accounts and their states.
pub struct Accounts {
    provider: String,
    accounts: Vec<Account>,
    state_path: PathBuf,
    states: Mutex<BTreeMap<String, AccountState>>,
}

impl Accounts {
    /// The accounts of `provider` listed in `file` (none listed, or no file: the runner's
    /// own environment as the one account), with their states from `state_path`.
    pub fn load(
        file: Option<&Path>,
        provider: &str,
        state_path: &Path,
    ) -> Result<Accounts, AccountError> {
        let mut accounts = Vec::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| AccountError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let invalid = |message: String| AccountError::Invalid {
                path: path.to_path_buf(),
                message,
            };
            let parsed: AccountsFile =
                toml::from_str(&text).map_err(|e| invalid(e.message().to_string()))?;
            for a in parsed
                .accounts
                .into_iter()
                .filter(|a| a.provider == provider)
            {
                if a.name.trim().is_empty() || a.name.contains('/') {
                    return Err(invalid(format!(
                        "account name '{}' must be non-empty, without '/'",
                        a.name
                    )));
                }
                if accounts.iter().any(|b: &Account| b.name == a.name) {
                    return Err(invalid(format!(
                        "two {provider} accounts are named '{}'",
                        a.name
                    )));
                }
                accounts.push(a);
            }
        }
        if accounts.is_empty() {
            accounts.push(Account {
                provider: provider.to_string(),
                name: AMBIENT.to_string(),
                env: BTreeMap::new(),
            });
        }
        let all: BTreeMap<String, AccountState> = std::fs::read_to_string(state_path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        let prefix = format!("{provider}/");
        let states = all
            .into_iter()
            .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|n| (n.to_string(), v)))
            .collect();
        Ok(Accounts {
            provider: provider.to_string(),
            accounts,
            state_path: state_path.to_path_buf(),
            states: Mutex::new(states),
        })
    }

    pub fn names(&self) -> Vec<String> {
        self.accounts.iter().map(|a| a.name.clone()).collect()
    }

    /// Whether a session made under account `made_under` can be resumed under `now`: they
    /// are the same account, or share the CLI's home (`home_env`, such as CODEX_HOME: the
    /// value each sets, unset for both meaning the runner's own). An account no longer
    /// listed is given the benefit of the doubt.
    pub fn share_sessions(&self, home_env: Option<&str>, made_under: &str, now: &Account) -> bool {
        if made_under == now.name {
            return true;
        }
        let Some(before) = self.accounts.iter().find(|a| a.name == made_under) else {
            return true;
        };
        let Some(key) = home_env else {
            return true;
        };
        before.env.get(key) == now.env.get(key)
    }

    /// The states as they stand (for reports; no secrets).
    pub fn states(&self) -> BTreeMap<String, AccountState> {
        self.states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Whether some account could be used now (nothing is marked used).
    pub fn available(&self, now: Timestamp) -> bool {
        let states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        self.accounts.iter().any(|a| {
            states.get(&a.name).is_none_or(|s| {
                s.disabled.is_none() && s.cooling_until.is_none_or(|until| until <= now)
            })
        })
    }

    /// The least recently used available account, marked used now.
    pub fn pick(&self, now: Timestamp) -> Pick {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        let usable: Vec<&Account> = self
            .accounts
            .iter()
            .filter(|a| states.get(&a.name).is_none_or(|s| s.disabled.is_none()))
            .collect();
        if usable.is_empty() {
            let reasons: Vec<String> = self
                .accounts
                .iter()
                .map(|a| {
                    let why = states
                        .get(&a.name)
                        .and_then(|s| s.disabled.clone())
                        .unwrap_or_default();
                    format!("{}: {why}", a.name)
                })
                .collect();
            return Pick::Nothing(format!(
                "every {} account is disabled ({})",
                self.provider,
                reasons.join("; ")
            ));
        }
        let available = usable.iter().filter(|a| {
            states
                .get(&a.name)
                .and_then(|s| s.cooling_until)
                .is_none_or(|until| until <= now)
        });
        let chosen = available
            .min_by_key(|a| states.get(&a.name).and_then(|s| s.last_used))
            .map(|a| (*a).clone());
        match chosen {
            Some(account) => {
                let state = states.entry(account.name.clone()).or_default();
                state.last_used = Some(now);
                state.cooling_until = None;
                self.save(&states);
                Pick::Use(account)
            }
            None => Pick::WaitUntil(
                usable
                    .iter()
                    .filter_map(|a| states.get(&a.name).and_then(|s| s.cooling_until))
                    .min()
                    .unwrap_or(now),
            ),
        }
    }

    /// Parks `name` until `until` (a rate limit or used-up quota).
    pub fn park(&self, name: &str, until: Timestamp) {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        states.entry(name.to_string()).or_default().cooling_until = Some(until);
        self.save(&states);
    }

    /// Takes `name` out of use until a person puts it back (by deleting its state).
    pub fn disable(&self, name: &str, why: &str) {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        states.entry(name.to_string()).or_default().disabled = Some(why.to_string());
        self.save(&states);
    }

    /// Writes every provider's states back (this provider's replaced), whole or not at all.
    fn save(&self, states: &BTreeMap<String, AccountState>) {
        let mut all: BTreeMap<String, AccountState> = std::fs::read_to_string(&self.state_path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        let prefix = format!("{}/", self.provider);
        all.retain(|k, _| !k.starts_with(&prefix));
        for (name, state) in states {
            all.insert(format!("{prefix}{name}"), state.clone());
        }
        if let (Some(dir), Ok(text)) =
            (self.state_path.parent(), serde_json::to_string_pretty(&all))
        {
            let _ = std::fs::create_dir_all(dir);
            let tmp = self
                .state_path
                .with_extension(format!("tmp{}", std::process::id()));
            if std::fs::write(&tmp, text).is_ok() {
                let _ = std::fs::rename(&tmp, &self.state_path);
            }
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_unix_millis(1_800_000_000_000 + secs * 1000).unwrap()
    }

    #[test]
    fn sessions_are_resumed_only_under_an_account_sharing_their_home() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("accounts.toml");
        std::fs::write(
            &file,
            "[[account]]\nprovider = \"codex\"\nname = \"home-a\"\nenv = { CODEX_HOME = \"/h/a\" }\n\
             [[account]]\nprovider = \"codex\"\nname = \"home-b\"\nenv = { CODEX_HOME = \"/h/b\" }\n\
             [[account]]\nprovider = \"codex\"\nname = \"key-1\"\nenv = { OPENAI_API_KEY = \"k1\" }\n\
             [[account]]\nprovider = \"codex\"\nname = \"key-2\"\nenv = { OPENAI_API_KEY = \"k2\" }\n",
        )
        .unwrap();
        let all = Accounts::load(Some(&file), "codex", &dir.path().join("s.json")).unwrap();
        let get = |name: &str| all.accounts.iter().find(|a| a.name == name).unwrap();
        let home = Some("CODEX_HOME");
        assert!(all.share_sessions(home, "home-a", get("home-a")));
        assert!(!all.share_sessions(home, "home-a", get("home-b")));
        assert!(!all.share_sessions(home, "home-a", get("key-1")));
        // Keys alone: both use the runner's own home.
        assert!(all.share_sessions(home, "key-1", get("key-2")));
        assert!(all.share_sessions(home, "gone", get("home-b")));
        assert!(all.share_sessions(None, "home-a", get("home-b")));
    }

    fn two(dir: &Path) -> Accounts {
        let file = dir.join("accounts.toml");
        std::fs::write(
            &file,
            "[[account]]\nprovider = \"claude\"\nname = \"a\"\nenv = { ANTHROPIC_API_KEY = \"sk-secret-a\" }\n\
             [[account]]\nprovider = \"claude\"\nname = \"b\"\nenv = { ANTHROPIC_API_KEY = \"sk-secret-b\" }\n\
             [[account]]\nprovider = \"codex\"\nname = \"c\"\n",
        )
        .unwrap();
        Accounts::load(Some(&file), "claude", &dir.join("state.json")).unwrap()
    }

    fn used(pick: Pick) -> String {
        match pick {
            Pick::Use(a) => a.name,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_least_recently_used_available_account_goes_first() {
        let dir = tempfile::tempdir().unwrap();
        let accounts = two(dir.path());
        assert_eq!(accounts.names(), ["a", "b"]);
        assert_eq!(used(accounts.pick(at(0))), "a");
        assert_eq!(used(accounts.pick(at(1))), "b");
        assert_eq!(used(accounts.pick(at(2))), "a");
    }

    #[test]
    fn a_parked_account_waits_for_its_reset_and_a_restart_remembers_it() {
        let dir = tempfile::tempdir().unwrap();
        let accounts = two(dir.path());
        accounts.park("a", at(600));
        assert_eq!(used(accounts.pick(at(1))), "b");
        accounts.park("b", at(300));
        assert_eq!(accounts.pick(at(2)), Pick::WaitUntil(at(300)));
        // Another runner process, or this one restarted, reads the same states.
        let again = two(dir.path());
        assert_eq!(again.pick(at(3)), Pick::WaitUntil(at(300)));
        assert_eq!(used(again.pick(at(301))), "b");
    }

    #[test]
    fn disabled_accounts_are_skipped_and_all_disabled_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let accounts = two(dir.path());
        accounts.disable("a", "invalid x-api-key");
        assert_eq!(used(accounts.pick(at(0))), "b");
        accounts.disable("b", "401");
        match accounts.pick(at(1)) {
            Pick::Nothing(why) => assert!(
                why.contains("invalid x-api-key") && why.contains("401"),
                "{why}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn without_listed_accounts_the_runners_environment_is_the_one_account() {
        let dir = tempfile::tempdir().unwrap();
        let accounts = Accounts::load(None, "gemini", &dir.path().join("s.json")).unwrap();
        assert_eq!(accounts.names(), [AMBIENT]);
    }

    #[test]
    fn secrets_never_show_in_debug_output_or_the_state_file() {
        let dir = tempfile::tempdir().unwrap();
        let accounts = two(dir.path());
        let Pick::Use(a) = accounts.pick(at(0)) else {
            panic!()
        };
        let shown = format!("{a:?}");
        assert!(
            shown.contains("ANTHROPIC_API_KEY") && !shown.contains("sk-secret"),
            "{shown}"
        );
        accounts.park("a", at(10));
        let state = std::fs::read_to_string(dir.path().join("state.json")).unwrap();
        assert!(
            !state.contains("sk-secret") && state.contains("claude/a"),
            "{state}"
        );
    }

    #[test]
    fn a_bad_accounts_file_says_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("accounts.toml");
        for (text, expected) in [
            ("[[account]]\nprovider = \"claude\"\nname = \"a\"\n[[account]]\nprovider = \"claude\"\nname = \"a\"\n", "two claude accounts"),
            ("[[account]]\nprovider = \"claude\"\nname = \"\"\n", "non-empty"),
            ("[[account]]\nprovider = \"claude\"\nname = \"a\"\ntoken = \"x\"\n", "token"),
        ] {
            std::fs::write(&file, text).unwrap();
            let e = Accounts::load(Some(&file), "claude", &dir.path().join("s")).err().unwrap().to_string();
            assert!(e.contains(expected), "{expected}: {e}");
        }
    }
}
