//! [`Instance`] over a store: users, sessions, tokens, projects and members, each query
//! written once for both stores ([`crate::sql`]). Every change appends an event to the
//! instance store's log; no event, error or row holds a password or a token.
//!
//! Hashing a password takes tens of milliseconds, so it is done before the write
//! transaction starts, never while the write lock is held.

use serde_json::json;

use super::{event, Board};
use crate::auth::{self, Role};
use crate::error::{Error, Result};
use crate::instance::{
    effective_role, settings, ApiToken, CreatedToken, Instance, LoginSession, Member, NewToken,
    NewUser, Principal, ProjectInfo, User, UserPatch, DEFAULT_PROJECT, FREE_LOGIN_FAILURES,
    MAX_LOGIN_WAIT, SESSION_HOURS,
};
use crate::sql::{query_map, Row, Sql};
use crate::store::{RawValue, Store, StoreTx};
use crate::time::Timestamp;

pub mod actions {
    pub const USER_CREATED: &str = "user.created";
    pub const USER_UPDATED: &str = "user.updated";
    pub const LOGIN: &str = "auth.login";
    pub const LOGIN_FAILED: &str = "auth.login_failed";
    pub const LOGOUT: &str = "auth.logout";
    pub const TOKEN_CREATED: &str = "token.created";
    pub const TOKEN_REVOKED: &str = "token.revoked";
    pub const PROJECT_REGISTERED: &str = "project.registered";
    pub const MEMBER_CHANGED: &str = "member.changed";
    pub const INSTANCE_SETTING: &str = "instance.setting_changed";

    /// Every action above.
    pub const ALL: &[&str] = &[
        USER_CREATED,
        USER_UPDATED,
        LOGIN,
        LOGIN_FAILED,
        LOGOUT,
        TOKEN_CREATED,
        TOKEN_REVOKED,
        PROJECT_REGISTERED,
        MEMBER_CHANGED,
        INSTANCE_SETTING,
    ];
}

const USER_COLUMNS: &str = "id, name, email, admin, disabled, created_at, updated_at";
const TOKEN_COLUMNS: &str = "t.id, t.prefix, t.name, u.name, t.project, t.agent, t.role, \
    t.created_at, t.expires_at, t.last_used_at, t.revoked_at";

fn user_from_row(r: &Row<'_>) -> Result<User> {
    Ok(User {
        id: r.uint(0)?,
        name: r.text(1)?,
        email: r.opt_text(2)?,
        admin: r.flag(3)?,
        disabled: r.flag(4)?,
        created_at: r.ts(5)?,
        updated_at: r.ts(6)?,
    })
}

fn token_from_row(r: &Row<'_>) -> Result<ApiToken> {
    Ok(ApiToken {
        id: r.uint(0)?,
        prefix: r.text(1)?,
        name: r.opt_text(2)?,
        user: r.text(3)?,
        project: r.opt_text(4)?,
        agent: r.opt_text(5)?,
        role: Role::parse(&r.text(6)?)?,
        created_at: r.ts(7)?,
        expires_at: r.opt_ts(8)?,
        last_used_at: r.opt_ts(9)?,
        revoked_at: r.opt_ts(10)?,
    })
}

fn not_found(what: &'static str, name: &str) -> Error {
    let hint = match what {
        "user" => "list users with `baton user list`",
        "project" => "list projects with `baton project list`",
        _ => "list tokens with `baton token list`",
    };
    Error::NotFound {
        what,
        name: name.to_string(),
        hint: Some(hint.into()),
    }
}

fn load_user(db: &mut dyn Sql, name: &str) -> Result<User> {
    query_map(
        db,
        "user",
        &format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1"),
        &[name.into()],
        user_from_row,
    )?
    .pop()
    .ok_or_else(|| not_found("user", name))
}

fn load_user_by_id(db: &mut dyn Sql, id: u64) -> Result<User> {
    query_map(
        db,
        "user",
        &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
        &[id.into()],
        user_from_row,
    )?
    .pop()
    .ok_or_else(|| Error::Internal(format!("user {id} is gone")))
}

fn load_token(db: &mut dyn Sql, id: u64) -> Result<ApiToken> {
    query_map(
        db,
        "token",
        &format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.id = ?1"
        ),
        &[id.into()],
        token_from_row,
    )?
    .pop()
    .ok_or_else(|| not_found("token", &id.to_string()))
}

fn member_role(db: &mut dyn Sql, user_id: u64, project: &str) -> Result<Option<Role>> {
    let rows = db.query(
        "SELECT role FROM project_members WHERE user_id = ?1 AND project = ?2",
        &[user_id.into(), project.into()],
    )?;
    match rows.first().and_then(|r| r.first()) {
        Some(RawValue::Text(role)) => Ok(Some(Role::parse(role)?)),
        _ => Ok(None),
    }
}

fn user_count(db: &mut dyn Sql) -> Result<u64> {
    count(db, "SELECT count(*) FROM users", &[])
}

fn count(db: &mut dyn Sql, sql: &str, params: &[RawValue]) -> Result<u64> {
    match db.query(sql, params)?.first().and_then(|r| r.first()) {
        Some(RawValue::Integer(n)) => Ok((*n).max(0) as u64),
        other => Err(Error::Internal(format!("a count came back as {other:?}"))),
    }
}

fn returned_id(rows: Vec<Vec<RawValue>>, what: &str) -> Result<u64> {
    match rows.first().and_then(|r| r.first()) {
        Some(RawValue::Integer(n)) => Ok(*n as u64),
        other => Err(Error::Internal(format!(
            "a new {what}'s id came back as {other:?}"
        ))),
    }
}

/// Project keys: short, lower case, usable in a URL, a file name and a schema name.
pub fn validate_project_key(key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.len() <= 40
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_with_hint(
            format!("{key:?} is not a valid project key"),
            "use up to 40 lower-case letters, digits and dashes, starting with a letter (for example web or api-v2)",
        ))
    }
}

fn validate_email(email: &Option<String>) -> Result<()> {
    match email {
        Some(e) if e.len() > 254 || !e.contains('@') || e.chars().any(char::is_whitespace) => {
            Err(Error::invalid_with_hint(
                format!("{e:?} is not an email address"),
                "give an address such as ann@example.com, or leave it out",
            ))
        }
        _ => Ok(()),
    }
}

fn validate_user_name(name: &str) -> Result<()> {
    super::validate_agent_name(name).map_err(|e| match e {
        Error::InvalidInput { message, .. } => Error::invalid_with_hint(
            message.replace("agent name", "user name"),
            "use up to 64 letters, digits and . _ - @ : + (users act under their name)",
        ),
        other => other,
    })
}

fn admins_left(db: &mut dyn Sql, without: u64) -> Result<u64> {
    count(
        db,
        "SELECT count(*) FROM users WHERE admin = 1 AND disabled = 0 AND id <> ?1",
        &[without.into()],
    )
}

/// A key whose last failure is older than this is forgotten: its count starts again.
const LOGIN_FAILURES_KEPT: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// The keys an attempt counts against: the account as typed (case-folded, cut short) and
/// the address it came from, when known.
fn login_keys(name: &str, address: &str) -> Vec<String> {
    let mut keys = vec![format!(
        "user:{}",
        crate::board::runs::cut_text(&name.to_lowercase(), 100)
    )];
    if !address.is_empty() {
        keys.push(format!(
            "addr:{}",
            crate::board::runs::cut_text(address, 200)
        ));
    }
    keys
}

/// Seconds until the next attempt for any of `keys` may be made, if one must wait.
fn login_wait(db: &mut dyn Sql, keys: &[String], now: Timestamp) -> Result<Option<u64>> {
    let until = query_map(
        db,
        "login wait",
        "SELECT wait_until FROM login_failures WHERE key = ?1 OR key = ?2",
        &[
            keys[0].as_str().into(),
            keys.get(1).unwrap_or(&keys[0]).as_str().into(),
        ],
        |r| r.ts(0),
    )?;
    Ok(until
        .into_iter()
        .map(|t| now.millis_until(t))
        .filter(|ms| *ms > 0)
        .max()
        .map(|ms| (ms as u64).div_ceil(1000)))
}

/// Counts a failure against each key; past the free ones, the next attempt waits twice
/// as long as the last (from 1 s, at most `MAX_LOGIN_WAIT`).
fn login_failed(db: &mut dyn Sql, keys: &[String], now: Timestamp) -> Result<()> {
    db.execute(
        "DELETE FROM login_failures WHERE last_at < ?1",
        &[now.minus(LOGIN_FAILURES_KEPT).into()],
    )?;
    for key in keys {
        let before = query_map(
            db,
            "login failures",
            "SELECT failures FROM login_failures WHERE key = ?1",
            &[key.as_str().into()],
            |r| r.int(0),
        )?;
        let failures = before.first().copied().unwrap_or(0) + 1;
        let wait = if failures > i64::from(FREE_LOGIN_FAILURES) {
            let doublings = (failures - i64::from(FREE_LOGIN_FAILURES) - 1).min(16) as u32;
            std::time::Duration::from_secs(1u64 << doublings).min(MAX_LOGIN_WAIT)
        } else {
            std::time::Duration::ZERO
        };
        db.execute(
            "INSERT INTO login_failures (key, failures, wait_until, last_at) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO UPDATE SET \
             failures = excluded.failures, wait_until = excluded.wait_until, \
             last_at = excluded.last_at",
            &[
                key.as_str().into(),
                failures.into(),
                now.plus(wait).into(),
                now.into(),
            ],
        )?;
    }
    Ok(())
}

/// A success forgets the account's and the address's failures.
fn login_succeeded(db: &mut dyn Sql, keys: &[String]) -> Result<()> {
    for key in keys {
        db.execute(
            "DELETE FROM login_failures WHERE key = ?1",
            &[key.as_str().into()],
        )?;
    }
    Ok(())
}

fn end_sessions(db: &mut dyn Sql, user_id: u64, now: Timestamp) -> Result<u64> {
    db.execute(
        "UPDATE login_sessions SET revoked_at = ?1 WHERE user_id = ?2 AND revoked_at IS NULL",
        &[now.into(), user_id.into()],
    )
}

fn project_exists(tx: &mut dyn StoreTx, key: &str) -> Result<bool> {
    if key == DEFAULT_PROJECT {
        return Ok(true);
    }
    Ok(count(
        tx.sql(),
        "SELECT count(*) FROM projects WHERE key = ?1",
        &[key.into()],
    )? > 0)
}

fn default_project(tx: &mut dyn StoreTx) -> Result<ProjectInfo> {
    let project = tx.project()?;
    Ok(ProjectInfo {
        key: DEFAULT_PROJECT.to_string(),
        name: project.name,
        created_by: crate::api::HUMAN.to_string(),
        created_at: project.created_at,
    })
}

fn unauthenticated(message: &str, hint: &str) -> Error {
    Error::Unauthenticated {
        message: message.to_string(),
        hint: Some(hint.to_string()),
    }
}

/// The outcome of a login, decided outside the write transaction.
enum Attempt {
    Ok(User),
    Failed(&'static str),
}

impl<S: Store> Board<S> {
    fn now(&self) -> Timestamp {
        (self.clock)()
    }

    fn principal_for(
        &self,
        tx: &mut dyn StoreTx,
        user: User,
        token: Option<ApiToken>,
        project: &str,
    ) -> Result<Principal> {
        let member = member_role(tx.sql(), user.id, project)?;
        let role = effective_role(&user, member, token.as_ref(), project);
        Ok(Principal {
            user,
            token,
            project: project.to_string(),
            role,
        })
    }
}

impl<S: Store> Instance for Board<S> {
    fn user_count(&self) -> Result<u64> {
        self.store.read(|tx| user_count(tx.sql()))
    }

    fn add_user(&self, actor: &str, new: NewUser) -> Result<User> {
        validate_user_name(&new.name)?;
        validate_email(&new.email)?;
        let hash = auth::hash_password(&new.password)?;
        let now = self.now();
        self.store.write(|tx| {
            let exists = count(
                tx.sql(),
                "SELECT count(*) FROM users WHERE name = ?1",
                &[new.name.as_str().into()],
            )?;
            if exists > 0 {
                return Err(Error::Conflict {
                    code: "user_exists",
                    message: format!("a user named {} already exists", new.name),
                    hint: Some(
                        "pick another name, or change that user with `baton user set`".into(),
                    ),
                });
            }
            // The first user runs the instance.
            let admin = new.admin || user_count(tx.sql())? == 0;
            let rows = tx.sql().query(
                "INSERT INTO users (name, email, password_hash, admin, disabled, created_at, \
                 updated_at) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?5) RETURNING id",
                &[
                    new.name.as_str().into(),
                    new.email.clone().into(),
                    hash.as_str().into(),
                    admin.into(),
                    now.into(),
                ],
            )?;
            let id = returned_id(rows, "user")?;
            event(
                tx,
                now,
                actor,
                actions::USER_CREATED,
                None,
                json!({"user": new.name, "admin": admin}),
            )?;
            load_user_by_id(tx.sql(), id)
        })
    }

    fn get_user(&self, name: &str) -> Result<User> {
        self.store.read(|tx| load_user(tx.sql(), name))
    }

    fn list_users(&self) -> Result<Vec<User>> {
        self.store.read(|tx| {
            query_map(
                tx.sql(),
                "user",
                &format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"),
                &[],
                user_from_row,
            )
        })
    }

    fn update_user(&self, actor: &str, name: &str, patch: UserPatch) -> Result<User> {
        validate_email(&patch.email)?;
        let hash = match &patch.password {
            Some(p) => Some(auth::hash_password(p)?),
            None => None,
        };
        let now = self.now();
        self.store.write(|tx| {
            let user = load_user(tx.sql(), name)?;
            let loses_admin = user.admin
                && !user.disabled
                && (patch.admin == Some(false) || patch.disabled == Some(true));
            if loses_admin && admins_left(tx.sql(), user.id)? == 0 {
                return Err(Error::Conflict {
                    code: "last_admin",
                    message: format!("{name} is the last active admin"),
                    hint: Some("make another user an admin first".into()),
                });
            }
            let db = tx.sql();
            if let Some(email) = &patch.email {
                db.execute(
                    "UPDATE users SET email = ?1 WHERE id = ?2",
                    &[email.as_str().into(), user.id.into()],
                )?;
            }
            if let Some(admin) = patch.admin {
                db.execute(
                    "UPDATE users SET admin = ?1 WHERE id = ?2",
                    &[admin.into(), user.id.into()],
                )?;
            }
            if let Some(disabled) = patch.disabled {
                db.execute(
                    "UPDATE users SET disabled = ?1 WHERE id = ?2",
                    &[disabled.into(), user.id.into()],
                )?;
            }
            if let Some(hash) = &hash {
                db.execute(
                    "UPDATE users SET password_hash = ?1 WHERE id = ?2",
                    &[hash.as_str().into(), user.id.into()],
                )?;
            }
            db.execute(
                "UPDATE users SET updated_at = ?1 WHERE id = ?2",
                &[now.into(), user.id.into()],
            )?;
            let ended = if hash.is_some() || patch.disabled == Some(true) {
                end_sessions(db, user.id, now)?
            } else {
                0
            };
            event(
                tx,
                now,
                actor,
                actions::USER_UPDATED,
                None,
                json!({
                    "user": name, "email": patch.email, "admin": patch.admin,
                    "disabled": patch.disabled, "password_changed": hash.is_some(),
                    "sessions_ended": ended,
                }),
            )?;
            load_user_by_id(tx.sql(), user.id)
        })
    }

    fn change_password(&self, name: &str, current: &str, new: &str) -> Result<()> {
        let stored = self.store.read(|tx| {
            let rows = tx.sql().query(
                "SELECT password_hash FROM users WHERE name = ?1",
                &[name.into()],
            )?;
            Ok(match rows.first().and_then(|r| r.first()) {
                Some(RawValue::Text(h)) => Some(h.clone()),
                _ => None,
            })
        })?;
        let ok = match &stored {
            Some(hash) => auth::verify_password(current, hash),
            None => false,
        };
        if !ok {
            return Err(Error::Forbidden {
                message: "the current password is wrong".into(),
                hint: Some("give your current password to set a new one".into()),
            });
        }
        self.update_user(
            name,
            name,
            UserPatch {
                password: Some(new.to_string()),
                ..UserPatch::default()
            },
        )
        .map(|_| ())
    }

    fn login(&self, name: &str, password: &str, address: &str) -> Result<(User, LoginSession)> {
        let keys = login_keys(name, address);
        let now = self.now();
        let (wait, found) = self.store.read(|tx| {
            let wait = login_wait(tx.sql(), &keys, now)?;
            let rows = tx.sql().query(
                "SELECT id, password_hash FROM users WHERE name = ?1",
                &[name.into()],
            )?;
            let found = match rows.first().map(|r| (r.first(), r.get(1))) {
                Some((Some(RawValue::Integer(id)), Some(RawValue::Text(hash)))) => {
                    Some((*id as u64, hash.clone()))
                }
                _ => None,
            };
            Ok((wait, found))
        })?;
        // A waiting account or address is refused before its password is even checked.
        if let Some(wait) = wait {
            return Err(Error::RateLimited {
                message: "too many failed logins".into(),
                retry_after_secs: wait,
            });
        }
        let attempt = match &found {
            Some((id, hash)) if auth::verify_password(password, hash) => {
                let user = self.store.read(|tx| load_user_by_id(tx.sql(), *id))?;
                if user.disabled {
                    Attempt::Failed("disabled")
                } else {
                    Attempt::Ok(user)
                }
            }
            Some(_) => Attempt::Failed("wrong password"),
            None => {
                auth::burn_password_check(password);
                Attempt::Failed("unknown user")
            }
        };
        let address = crate::board::runs::cut_text(address, 200);
        let outcome = self.store.write(|tx| match &attempt {
            Attempt::Ok(user) => {
                login_succeeded(tx.sql(), &keys)?;
                let id = auth::new_secret_id();
                let expires = now.plus(std::time::Duration::from_secs(SESSION_HOURS as u64 * 3600));
                tx.sql().execute(
                    "INSERT INTO login_sessions (id, user_id, address, created_at, expires_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    &[
                        id.as_str().into(),
                        user.id.into(),
                        address.as_str().into(),
                        now.into(),
                        expires.into(),
                    ],
                )?;
                event(
                    tx,
                    now,
                    &user.name,
                    actions::LOGIN,
                    None,
                    json!({"user": user.name, "address": address}),
                )?;
                Ok(Some(LoginSession {
                    id,
                    user: user.name.clone(),
                    created_at: now,
                    expires_at: expires,
                }))
            }
            Attempt::Failed(why) => {
                login_failed(tx.sql(), &keys, now)?;
                // The name is recorded as typed, cut short; never the password.
                let typed = crate::board::runs::cut_text(name, 100);
                event(
                    tx,
                    now,
                    crate::board::SYSTEM,
                    actions::LOGIN_FAILED,
                    None,
                    json!({"user": typed, "address": address, "reason": why}),
                )?;
                Ok(None)
            }
        })?;
        match (attempt, outcome) {
            (Attempt::Ok(user), Some(session)) => Ok((user, session)),
            (Attempt::Failed("disabled"), _) => Err(unauthenticated(
                "this account is disabled",
                "ask an admin of this server to enable it",
            )),
            _ => Err(unauthenticated(
                "the user name or password is wrong",
                "check both; an admin can set a new password with `baton user set NAME --password-stdin`",
            )),
        }
    }

    fn logout(&self, session: &str) -> Result<()> {
        let now = self.now();
        self.store.write(|tx| {
            let rows = tx.sql().query(
                "SELECT u.name FROM login_sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.id = ?1 AND s.revoked_at IS NULL",
                &[session.into()],
            )?;
            let Some(RawValue::Text(user)) = rows.first().and_then(|r| r.first()).cloned() else {
                return Ok(());
            };
            tx.sql().execute(
                "UPDATE login_sessions SET revoked_at = ?1 WHERE id = ?2",
                &[now.into(), session.into()],
            )?;
            event(tx, now, &user, actions::LOGOUT, None, json!({"user": user}))?;
            Ok(())
        })
    }

    fn session_principal(&self, session: &str, project: &str) -> Result<Principal> {
        let now = self.now();
        self.store.read(|tx| {
            let rows = tx.sql().query(
                "SELECT user_id, expires_at, revoked_at FROM login_sessions WHERE id = ?1",
                &[session.into()],
            )?;
            let Some(row) = rows.first() else {
                return Err(unauthenticated("this session is not known", "log in again"));
            };
            let row = Row::new(row, "session");
            if row.opt_ts(2)?.is_some() {
                return Err(unauthenticated("this session has ended", "log in again"));
            }
            if row.ts(1)? <= now {
                return Err(unauthenticated("this session has expired", "log in again"));
            }
            let user = load_user_by_id(tx.sql(), row.uint(0)?)?;
            if user.disabled {
                return Err(unauthenticated(
                    "this account is disabled",
                    "ask an admin of this server to enable it",
                ));
            }
            self.principal_for(tx, user, None, project)
        })
    }

    fn token_principal(&self, token: &str, project: &str) -> Result<Principal> {
        let now = self.now();
        let hash = auth::token_hash(token);
        self.store.read(|tx| {
            let tokens = query_map(
                tx.sql(),
                "token",
                &format!(
                    "SELECT {TOKEN_COLUMNS}, t.user_id FROM api_tokens t \
                     JOIN users u ON u.id = t.user_id WHERE t.hash = ?1"
                ),
                &[hash.as_str().into()],
                |r| Ok((token_from_row(r)?, r.uint(11)?)),
            )?;
            let Some((info, user_id)) = tokens.into_iter().next() else {
                return Err(unauthenticated(
                    "this token is not known",
                    "create a token with `baton token create`, or log in with `baton login URL`",
                ));
            };
            if info.revoked_at.is_some() {
                return Err(unauthenticated(
                    &format!("token {} was revoked", info.prefix),
                    "create a new token with `baton token create`",
                ));
            }
            if info.expires_at.is_some_and(|at| at <= now) {
                return Err(unauthenticated(
                    &format!("token {} has expired", info.prefix),
                    "create a new token with `baton token create`",
                ));
            }
            let user = load_user_by_id(tx.sql(), user_id)?;
            if user.disabled {
                return Err(unauthenticated(
                    "the user this token belongs to is disabled",
                    "ask an admin of this server to enable them",
                ));
            }
            self.principal_for(tx, user, Some(info), project)
        })
    }

    fn token_used(&self, id: u64) -> Result<()> {
        let now = self.now();
        self.store.write(|tx| {
            tx.sql()
                .execute(
                    "UPDATE api_tokens SET last_used_at = ?1 WHERE id = ?2",
                    &[now.into(), id.into()],
                )
                .map(|_| ())
        })
    }

    fn create_token(&self, actor: &str, new: NewToken) -> Result<CreatedToken> {
        if let Some(project) = &new.project {
            validate_project_key(project)?;
        }
        if let Some(agent) = &new.agent {
            super::validate_agent_name(agent)?;
        }
        if let Some(name) = &new.name {
            if name.len() > 200 {
                return Err(Error::invalid("a token's name is at most 200 bytes"));
            }
        }
        let now = self.now();
        if new.expires_at.is_some_and(|at| at <= now) {
            return Err(Error::invalid_with_hint(
                "the token would already be expired",
                "give a time in the future, or a duration such as --expires 30d",
            ));
        }
        let secret = auth::new_token();
        self.store.write(|tx| {
            let creator = load_user(tx.sql(), actor)?;
            let project = new.project.clone();
            match &project {
                Some(p) if !project_exists(tx, p)? => return Err(not_found("project", p)),
                None if !creator.admin => {
                    return Err(Error::Forbidden {
                        message: "only an admin can make a token for every project".into(),
                        hint: Some("name the project: --project KEY".into()),
                    })
                }
                _ => {}
            }
            let member = match &project {
                Some(p) => member_role(tx.sql(), creator.id, p)?,
                None => None,
            };
            let own = effective_role(&creator, member, None, project.as_deref().unwrap_or(""));
            if own.is_none_or(|r| r < new.role) {
                return Err(Error::Forbidden {
                    message: format!(
                        "a token cannot have more rights than its maker: you are {} here, the token asks for {}",
                        own.map(|r| r.to_string()).unwrap_or_else(|| "nothing".into()),
                        new.role
                    ),
                    hint: Some("ask for a lower role, or ask an admin to make the token".into()),
                });
            }
            let prefix: String = secret.chars().take(auth::TOKEN_VISIBLE).collect();
            let rows = tx.sql().query(
                "INSERT INTO api_tokens (hash, prefix, name, user_id, project, agent, role, \
                 created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
                &[
                    auth::token_hash(&secret).as_str().into(),
                    prefix.as_str().into(),
                    new.name.clone().into(),
                    creator.id.into(),
                    project.clone().into(),
                    new.agent.clone().into(),
                    new.role.as_str().into(),
                    now.into(),
                    new.expires_at.into(),
                ],
            )?;
            let id = returned_id(rows, "token")?;
            event(
                tx,
                now,
                actor,
                actions::TOKEN_CREATED,
                None,
                json!({
                    "token": id, "prefix": prefix, "project": project, "agent": new.agent,
                    "role": new.role, "expires_at": new.expires_at,
                }),
            )?;
            Ok(CreatedToken {
                info: load_token(tx.sql(), id)?,
                token: secret.clone(),
            })
        })
    }

    fn list_tokens(&self, project: Option<&str>) -> Result<Vec<ApiToken>> {
        self.store.read(|tx| {
            let (filter, params): (&str, Vec<RawValue>) = match project {
                Some(p) => ("WHERE t.project = ?1", vec![p.into()]),
                None => ("", vec![]),
            };
            query_map(
                tx.sql(),
                "token",
                &format!(
                    "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id \
                     {filter} ORDER BY t.id"
                ),
                &params,
                token_from_row,
            )
        })
    }

    fn get_token(&self, id: u64) -> Result<ApiToken> {
        self.store.read(|tx| load_token(tx.sql(), id))
    }

    fn revoke_token(&self, actor: &str, id: u64) -> Result<ApiToken> {
        let now = self.now();
        self.store.write(|tx| {
            let token = load_token(tx.sql(), id)?;
            if token.revoked_at.is_some() {
                return Ok(token);
            }
            tx.sql().execute(
                "UPDATE api_tokens SET revoked_at = ?1 WHERE id = ?2",
                &[now.into(), id.into()],
            )?;
            event(
                tx,
                now,
                actor,
                actions::TOKEN_REVOKED,
                None,
                json!({"token": id, "prefix": token.prefix, "project": token.project}),
            )?;
            load_token(tx.sql(), id)
        })
    }

    fn register_project(&self, actor: &str, key: &str, name: &str) -> Result<ProjectInfo> {
        validate_project_key(key)?;
        super::validate::required_text("name", name)?;
        if name.len() > 200 {
            return Err(Error::invalid("a project's name is at most 200 bytes"));
        }
        let now = self.now();
        self.store.write(|tx| {
            if project_exists(tx, key)? {
                return Err(Error::Conflict {
                    code: "project_exists",
                    message: format!("project {key} already exists"),
                    hint: Some(
                        "pick another key; `baton project list` shows the taken ones".into(),
                    ),
                });
            }
            tx.sql().execute(
                "INSERT INTO projects (key, name, created_by, created_at) VALUES (?1, ?2, ?3, ?4)",
                &[key.into(), name.into(), actor.into(), now.into()],
            )?;
            event(
                tx,
                now,
                actor,
                actions::PROJECT_REGISTERED,
                None,
                json!({"project": key, "name": name}),
            )?;
            Ok(ProjectInfo {
                key: key.to_string(),
                name: name.to_string(),
                created_by: actor.to_string(),
                created_at: now,
            })
        })
    }

    fn list_projects(&self) -> Result<Vec<ProjectInfo>> {
        self.store.read(|tx| {
            let mut all = vec![default_project(tx)?];
            all.extend(query_map(
                tx.sql(),
                "project",
                "SELECT key, name, created_by, created_at FROM projects ORDER BY key",
                &[],
                |r| {
                    Ok(ProjectInfo {
                        key: r.text(0)?,
                        name: r.text(1)?,
                        created_by: r.text(2)?,
                        created_at: r.ts(3)?,
                    })
                },
            )?);
            Ok(all)
        })
    }

    fn get_project(&self, key: &str) -> Result<ProjectInfo> {
        self.list_projects()?
            .into_iter()
            .find(|p| p.key == key)
            .ok_or_else(|| not_found("project", key))
    }

    fn set_member(
        &self,
        actor: &str,
        project: &str,
        user: &str,
        role: Option<Role>,
    ) -> Result<Vec<Member>> {
        let now = self.now();
        self.store.write(|tx| {
            if !project_exists(tx, project)? {
                return Err(not_found("project", project));
            }
            let target = load_user(tx.sql(), user)?;
            tx.sql().execute(
                "DELETE FROM project_members WHERE project = ?1 AND user_id = ?2",
                &[project.into(), target.id.into()],
            )?;
            if let Some(role) = role {
                tx.sql().execute(
                    "INSERT INTO project_members (project, user_id, role) VALUES (?1, ?2, ?3)",
                    &[project.into(), target.id.into(), role.as_str().into()],
                )?;
            }
            event(
                tx,
                now,
                actor,
                actions::MEMBER_CHANGED,
                None,
                json!({"project": project, "user": user, "role": role}),
            )?;
            members_of(tx.sql(), Some(project), None)
        })
    }

    fn members(&self, project: &str) -> Result<Vec<Member>> {
        self.store.read(|tx| {
            if !project_exists(tx, project)? {
                return Err(not_found("project", project));
            }
            members_of(tx.sql(), Some(project), None)
        })
    }

    fn memberships(&self, user: &str) -> Result<Vec<Member>> {
        self.store.read(|tx| {
            let found = load_user(tx.sql(), user)?;
            members_of(tx.sql(), None, Some(found.id))
        })
    }

    fn instance_setting(&self, key: &str) -> Result<Option<String>> {
        self.store.read(|tx| {
            let rows = tx.sql().query(
                "SELECT value FROM instance_settings WHERE key = ?1",
                &[key.into()],
            )?;
            Ok(match rows.first().and_then(|r| r.first()) {
                Some(RawValue::Text(v)) => Some(v.clone()),
                _ => None,
            })
        })
    }

    fn set_instance_setting(&self, actor: &str, key: &str, value: &str) -> Result<()> {
        let secret = key == settings::SESSION_KEY;
        if !secret && !settings::ALL_PUBLIC.contains(&key) {
            return Err(Error::invalid_with_hint(
                format!("unknown instance setting {key:?}"),
                format!("settings: {}", settings::ALL_PUBLIC.join(", ")),
            ));
        }
        if key == settings::OPEN_REGISTRATION && !matches!(value, "true" | "false") {
            return Err(Error::invalid(format!(
                "{key} is true or false, not {value:?}"
            )));
        }
        let now = self.now();
        self.store.write(|tx| {
            tx.sql().execute(
                "DELETE FROM instance_settings WHERE key = ?1",
                &[key.into()],
            )?;
            tx.sql().execute(
                "INSERT INTO instance_settings (key, value) VALUES (?1, ?2)",
                &[key.into(), value.into()],
            )?;
            // The session key itself never goes into the log.
            let shown = if secret { None } else { Some(value) };
            event(
                tx,
                now,
                actor,
                actions::INSTANCE_SETTING,
                None,
                json!({"key": key, "value": shown}),
            )?;
            Ok(())
        })
    }

    fn session_key(&self) -> Result<String> {
        self.session_key_in_store()
    }
}

impl<S: Store> Board<S> {
    fn session_key_in_store(&self) -> Result<String> {
        self.store.write(|tx| {
            let rows = tx.sql().query(
                "SELECT value FROM instance_settings WHERE key = ?1",
                &[settings::SESSION_KEY.into()],
            )?;
            if let Some(RawValue::Text(key)) = rows.first().and_then(|r| r.first()) {
                return Ok(key.clone());
            }
            let key = auth::hex(&auth::random_bytes(32));
            tx.sql().execute(
                "INSERT INTO instance_settings (key, value) VALUES (?1, ?2)",
                &[settings::SESSION_KEY.into(), key.as_str().into()],
            )?;
            Ok(key)
        })
    }
}

fn members_of(db: &mut dyn Sql, project: Option<&str>, user: Option<u64>) -> Result<Vec<Member>> {
    let (filter, params): (&str, Vec<RawValue>) = match (project, user) {
        (Some(p), _) => ("WHERE m.project = ?1", vec![p.into()]),
        (None, Some(u)) => ("WHERE m.user_id = ?1", vec![u.into()]),
        (None, None) => ("", vec![]),
    };
    query_map(
        db,
        "member",
        &format!(
            "SELECT m.project, u.name, m.role FROM project_members m \
             JOIN users u ON u.id = m.user_id {filter} ORDER BY m.project, u.name"
        ),
        &params,
        |r| {
            Ok(Member {
                project: r.text(0)?,
                user: r.text(1)?,
                role: Role::parse(&r.text(2)?)?,
            })
        },
    )
}
