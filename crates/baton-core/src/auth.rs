//! Who may do what: roles per project, the actions of the API, and the one table that joins
//! them. Surfaces only authenticate (who is this?) and then ask [`allows`] (may they?).
//!
//! Also the secrets of team mode, kept out of the store: passwords are stored as Argon2id
//! hashes, API tokens as SHA-256 hashes of 32 random bytes (a token carries its own entropy,
//! so a fast hash is enough and a lookup by hash stays one indexed read).

use std::fmt;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A role in one project. Each role may do what the roles before it may (see [`POLICY`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads the board, docs, messages, runs and events.
    Viewer,
    /// Works tasks, always as itself: pickup, done, block, note, heartbeat, reserve, ask
    /// and answer, docs, its runs.
    Agent,
    /// Decides on work: approve, reject, unblock, edit tasks, stop and retry runs.
    Reviewer,
    /// Runs the project: settings, delete, import, the project's members and tokens.
    Maintainer,
    /// Everything, on every project: users, projects, instance settings.
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Viewer,
        Role::Agent,
        Role::Reviewer,
        Role::Maintainer,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Agent => "agent",
            Role::Reviewer => "reviewer",
            Role::Maintainer => "maintainer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                Error::invalid_with_hint(
                    format!("unknown role {s:?}"),
                    "roles: viewer, agent, reviewer, maintainer, admin",
                )
            })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a request does, as far as permission goes. Every operation of every surface maps
/// to exactly one action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Anything that only reads a project: tasks, board, events, docs, messages, runs, code.
    Read,
    /// Pick up, finish, block (a task one cannot go on with), heartbeat, note, take and
    /// release file reservations, guard checks.
    Work,
    /// Add tasks (an agent decomposing its work adds tasks too).
    CreateTasks,
    /// Ask and answer questions.
    Message,
    /// Write and update docs.
    WriteDocs,
    /// Record runs of agent CLIs and their output, and provider account state (runners).
    RecordRuns,
    /// Propose changes to the plan; comment on phases and tasks (and answer comments).
    Propose,
    /// Approve, reject, unblock.
    Review,
    /// Change a task's fields.
    EditTasks,
    /// Create and change initiatives and phases; archive and reopen initiatives; decide
    /// on proposals.
    Plan,
    /// Stop or retry a run.
    ControlRuns,
    /// Delete tasks and docs.
    Delete,
    /// Change the project's settings.
    Settings,
    /// Import a whole board.
    Import,
    /// Create, list and revoke the project's API tokens; manage its members and webhooks.
    ManageProject,
    /// Create projects; manage users and instance settings.
    Administer,
}

impl Action {
    pub const ALL: [Action; 16] = [
        Action::Read,
        Action::Work,
        Action::CreateTasks,
        Action::Message,
        Action::WriteDocs,
        Action::RecordRuns,
        Action::Propose,
        Action::Review,
        Action::EditTasks,
        Action::Plan,
        Action::ControlRuns,
        Action::Delete,
        Action::Settings,
        Action::Import,
        Action::ManageProject,
        Action::Administer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Work => "work",
            Action::CreateTasks => "create_tasks",
            Action::Message => "message",
            Action::WriteDocs => "write_docs",
            Action::RecordRuns => "record_runs",
            Action::Propose => "propose",
            Action::Review => "review",
            Action::EditTasks => "edit_tasks",
            Action::Plan => "plan",
            Action::ControlRuns => "control_runs",
            Action::Delete => "delete",
            Action::Settings => "settings",
            Action::Import => "import",
            Action::ManageProject => "manage_project",
            Action::Administer => "administer",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The policy: for each action, whether each role (viewer, agent, reviewer, maintainer,
/// admin, in that order) may do it. This table is the only place that says so.
pub const POLICY: [(Action, [bool; 5]); 16] = [
    //                          viewer agent  review maint  admin
    (Action::Read, [true, true, true, true, true]),
    (Action::Work, [false, true, true, true, true]),
    (Action::CreateTasks, [false, true, true, true, true]),
    (Action::Message, [false, true, true, true, true]),
    (Action::WriteDocs, [false, true, true, true, true]),
    (Action::RecordRuns, [false, true, true, true, true]),
    (Action::Propose, [false, true, true, true, true]),
    (Action::Review, [false, false, true, true, true]),
    (Action::EditTasks, [false, false, true, true, true]),
    (Action::Plan, [false, false, true, true, true]),
    (Action::ControlRuns, [false, false, true, true, true]),
    (Action::Delete, [false, false, false, true, true]),
    (Action::Settings, [false, false, false, true, true]),
    (Action::Import, [false, false, false, true, true]),
    (Action::ManageProject, [false, false, false, true, true]),
    (Action::Administer, [false, false, false, false, true]),
];

/// Whether `role` may do `action`.
pub fn allows(role: Role, action: Action) -> bool {
    POLICY
        .iter()
        .find(|(a, _)| *a == action)
        .map(|(_, roles)| roles[role as usize])
        .unwrap_or(false)
}

/// The least role that may do `action` (roles are ordered, see [`POLICY`]).
pub fn minimum_role(action: Action) -> Role {
    Role::ALL
        .into_iter()
        .find(|r| allows(*r, action))
        .unwrap_or(Role::Admin)
}

/// Refuses `action` unless `role` allows it, saying which role is needed.
pub fn require(role: Option<Role>, action: Action, project: &str) -> Result<()> {
    match role {
        Some(r) if allows(r, action) => Ok(()),
        Some(r) => Err(Error::Forbidden {
            message: format!(
                "{action} needs the {} role in project {project}; you are {r}",
                minimum_role(action)
            ),
            hint: Some("ask a maintainer of the project for a role that allows it".into()),
        }),
        None => Err(Error::Forbidden {
            message: format!("you have no role in project {project}"),
            hint: Some("ask a maintainer of the project to add you".into()),
        }),
    }
}

/// Who a request acts as. A credential bound to an agent fixes the identity: asking to act
/// as another agent is refused. An unbound credential acts as the agent it names, or as its
/// user when it names none.
pub fn acting_as(bound: Option<&str>, user: &str, requested: Option<&str>) -> Result<String> {
    match (bound, requested) {
        (Some(agent), None) => Ok(agent.to_string()),
        (Some(agent), Some(asked)) if asked == agent => Ok(agent.to_string()),
        (Some(agent), Some(asked)) => Err(Error::Forbidden {
            message: format!("this token acts as {agent}; it cannot act as {asked}"),
            hint: Some(format!(
                "drop the agent name, or use a token made for {asked} (`baton token create --agent {asked}`)"
            )),
        }),
        (None, Some(asked)) => Ok(asked.to_string()),
        (None, None) => Ok(user.to_string()),
    }
}

/// What a checked credential may do in the project a request is for. Surfaces that do not
/// go through the server's route table (the MCP tools) check each call with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub user: String,
    pub project: String,
    pub role: Option<Role>,
    /// The agent the credential is bound to, if any.
    pub agent: Option<String>,
}

impl Grant {
    pub fn require(&self, action: Action) -> Result<()> {
        require(self.role, action, &self.project)
    }

    pub fn acting_as(&self, requested: Option<&str>) -> Result<String> {
        acting_as(self.agent.as_deref(), &self.user, requested)
    }
}

/// Argon2id parameters for passwords: 19 MiB, 2 passes, 1 lane (the OWASP recommendation).
pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
pub const ARGON2_PASSES: u32 = 2;
pub const ARGON2_LANES: u32 = 1;

/// The shortest password accepted, in characters.
pub const MIN_PASSWORD: usize = 8;
/// The longest password accepted, in bytes (hashing is bounded work).
pub const MAX_PASSWORD: usize = 1024;

fn argon2() -> Argon2<'static> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES, None)
        .expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Refuses a password that is too short or too long.
pub fn check_password_rules(password: &str) -> Result<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD {
        return Err(Error::invalid_with_hint(
            format!("the password has {chars} characters; at least {MIN_PASSWORD} are needed"),
            "a passphrase of a few words is long enough and easy to remember",
        ));
    }
    if password.len() > MAX_PASSWORD {
        return Err(Error::invalid(format!(
            "the password is {} bytes; at most {MAX_PASSWORD}",
            password.len()
        )));
    }
    Ok(())
}

/// The Argon2id hash of a password (PHC string, with its own random salt).
pub fn hash_password(password: &str) -> Result<String> {
    check_password_rules(password)?;
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("cannot hash a password: {e}")))
}

/// Whether `password` matches `hash`. Always does the full work, even for a hash that does
/// not parse, so timing does not tell which.
pub fn verify_password(password: &str, hash: &str) -> bool {
    if password.len() > MAX_PASSWORD {
        return false;
    }
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => {
            let _ = hash_password_unchecked(password);
            false
        }
    }
}

/// Burns the same work as a real check (for unknown users and broken hashes).
pub fn burn_password_check(password: &str) {
    let _ = hash_password_unchecked(password);
}

fn hash_password_unchecked(password: &str) -> Option<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .ok()
        .map(|h| h.to_string())
}

/// The prefix every API token starts with, so a leaked one is easy to recognise.
pub const TOKEN_PREFIX: &str = "baton_";
/// How much of a token is kept in the clear to tell tokens apart (`baton_1a2b3c`).
pub const TOKEN_VISIBLE: usize = TOKEN_PREFIX.len() + 6;

/// `n` random bytes from the operating system.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// Lower-case hex.
/// The SHA-256 of everything `r` yields, as hex (content hashes of files: `baton watch`).
pub fn sha256_hex(mut r: impl std::io::Read) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match r.read(&mut buf)? {
            0 => return Ok(hex(&hasher.finalize())),
            n => hasher.update(&buf[..n]),
        }
    }
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

/// A new API token: the prefix and 32 random bytes, in hex.
pub fn new_token() -> String {
    format!("{TOKEN_PREFIX}{}", hex(&random_bytes(32)))
}

/// Whether `text` looks like an API token (rather than a signed session).
pub fn is_api_token(text: &str) -> bool {
    text.starts_with(TOKEN_PREFIX)
}

/// What the store keeps of a token: its SHA-256, in hex.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// A random id for a login session or a setup code (24 random bytes, hex).
pub fn new_secret_id() -> String {
    hex(&random_bytes(24))
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_every_action_once() {
        for action in Action::ALL {
            assert_eq!(
                POLICY.iter().filter(|(a, _)| *a == action).count(),
                1,
                "{action}"
            );
        }
    }

    #[test]
    fn each_role_may_do_what_the_roles_below_it_may() {
        for (action, roles) in POLICY {
            for pair in roles.windows(2) {
                assert!(pair[1] || !pair[0], "{action}: a higher role lost a right");
            }
        }
    }

    #[test]
    fn the_roles_rights_are_the_documented_ones() {
        use Action::*;
        let expect = |role: Role, may: &[Action]| {
            for action in Action::ALL {
                assert_eq!(
                    allows(role, action),
                    may.contains(&action),
                    "{role} {action}"
                );
            }
        };
        expect(Role::Viewer, &[Read]);
        let agent = [
            Read,
            Work,
            CreateTasks,
            Message,
            WriteDocs,
            RecordRuns,
            Propose,
        ];
        expect(Role::Agent, &agent);
        let reviewer = [&agent[..], &[Review, EditTasks, ControlRuns, Plan]].concat();
        expect(Role::Reviewer, &reviewer);
        let maintainer = [&reviewer[..], &[Delete, Settings, Import, ManageProject]].concat();
        expect(Role::Maintainer, &maintainer);
        expect(Role::Admin, &Action::ALL);
        assert_eq!(minimum_role(Review), Role::Reviewer);
        assert_eq!(minimum_role(Administer), Role::Admin);
    }

    #[test]
    fn require_names_the_role_needed() {
        let e = require(Some(Role::Agent), Action::Review, "web").unwrap_err();
        assert_eq!(e.code(), "forbidden");
        assert!(e.to_string().contains("reviewer"), "{e}");
        assert!(require(None, Action::Read, "web").is_err());
        assert!(require(Some(Role::Viewer), Action::Read, "web").is_ok());
    }

    #[test]
    fn a_bound_token_cannot_act_as_another_agent() {
        assert_eq!(acting_as(Some("claude"), "ann", None).unwrap(), "claude");
        assert_eq!(
            acting_as(Some("claude"), "ann", Some("claude")).unwrap(),
            "claude"
        );
        let e = acting_as(Some("claude"), "ann", Some("codex")).unwrap_err();
        assert_eq!(e.class(), crate::ErrorClass::Forbidden);
        assert_eq!(acting_as(None, "ann", Some("codex")).unwrap(), "codex");
        assert_eq!(acting_as(None, "ann", None).unwrap(), "ann");
    }

    #[test]
    fn roles_parse_and_print() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()).unwrap(), role);
        }
        assert_eq!(Role::parse(" Admin ").unwrap(), Role::Admin);
        assert!(Role::parse("owner")
            .unwrap_err()
            .hint()
            .unwrap()
            .contains("maintainer"));
    }

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(!hash.contains("correct horse"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct horsE", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
        assert!(hash_password("short").is_err());
        assert!(hash_password(&"x".repeat(MAX_PASSWORD + 1)).is_err());
        // Multi-byte characters count as characters.
        assert!(hash_password("パスワードです!!").is_ok());
    }

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert!(is_api_token(&a));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
        let h = token_hash(&a);
        assert_eq!(h.len(), 64);
        assert!(!h.contains(&a[TOKEN_PREFIX.len()..]));
        assert_eq!(h, token_hash(&a));
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"ab"));
    }
}
