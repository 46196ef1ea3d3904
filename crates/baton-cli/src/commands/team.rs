//! Team mode from the command line: `baton user`, `baton token`, `baton project`,
//! `baton login`/`logout` and `baton whoami`.
//!
//! On the server's own machine these write the store directly (the first admin is made
//! this way: `baton user add NAME --admin`); with `BATON_URL` they go through the server,
//! with the caller's credential and role.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use baton_core::auth::Role;
use baton_core::instance::{Instance, NewToken, NewUser, UserPatch};
use baton_core::time::{parse_duration, Timestamp};
use baton_core::ErrorClass;
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Context;
use crate::error::{CliError, CliResult};
use crate::output::{or_dash, Table};

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user. On the server's machine this writes the store directly: that is how
    /// the first admin is made. The password is read from stdin (--password-stdin), from
    /// BATON_PASSWORD, or asked for on a terminal.
    Add(UserAddArgs),
    /// Every user.
    List,
    /// Change a user: admin or not, disabled or not, email, a new password.
    Set(UserSetArgs),
}

#[derive(Args, Debug)]
pub struct UserAddArgs {
    /// The user's login name.
    pub name: String,
    /// An instance admin: every role on every project, users and projects.
    #[arg(long)]
    pub admin: bool,
    /// An email address, for people to see.
    #[arg(long)]
    pub email: Option<String>,
    /// Read the password from the first line of stdin.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Args, Debug)]
pub struct UserSetArgs {
    /// The user's login name.
    pub name: String,
    /// Make the user an admin (true) or not (false).
    #[arg(long)]
    pub admin: Option<bool>,
    /// Disable the user: their sessions end and their tokens stop working.
    #[arg(long, conflicts_with = "enable")]
    pub disable: bool,
    /// Enable a disabled user again.
    #[arg(long)]
    pub enable: bool,
    /// A new email address.
    #[arg(long)]
    pub email: Option<String>,
    /// Set a new password, read from stdin's first line.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create an API token for an agent or a script. It is printed once; the server keeps
    /// only its hash. A token bound to an agent (--agent) always acts as that agent.
    Create(TokenCreateArgs),
    /// Tokens (never their secrets): of one project, or every token (admins).
    List {
        /// Only this project's tokens (its key).
        #[arg(long)]
        project: Option<String>,
    },
    /// Revoke a token: requests carrying it are refused from now on.
    Revoke {
        /// The token's number (see `baton token list`).
        id: u64,
    },
}

#[derive(Args, Debug)]
pub struct TokenCreateArgs {
    /// The project it works on (default: the one --project / BATON_PROJECT names, else the
    /// default project). `--project '*'` (admins): every project.
    #[arg(long)]
    pub project: Option<String>,
    /// The agent it acts as; requests cannot name another. `--agent NAME` typed on the
    /// command line does the same.
    #[arg(long = "for-agent")]
    pub for_agent: Option<String>,
    /// viewer, agent, reviewer, maintainer or admin.
    #[arg(long, default_value = "agent")]
    pub role: String,
    /// How long it lasts: 30d, 12h, 90m (default: until revoked).
    #[arg(long)]
    pub expires: Option<String>,
    /// A note saying what it is for.
    #[arg(long)]
    pub name: Option<String>,
    /// On the server's machine: the user the token belongs to (default: the only admin).
    #[arg(long)]
    pub user: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum ProjectCommand {
    /// Create a project: its own tasks, docs, messages, events and ids.
    Create {
        /// Its key, as commands name it (`--project web`).
        key: String,
        /// A name for people (default: the key).
        #[arg(long)]
        name: Option<String>,
    },
    /// The projects you can use.
    List,
    /// One project and its members.
    Show {
        /// The project's key.
        key: String,
    },
    /// Give a user a role in a project (`--role none` takes it away).
    Member {
        /// The project's key.
        key: String,
        /// The user's login name.
        user: String,
        /// viewer, agent, reviewer, maintainer, admin, or none to remove them.
        #[arg(long)]
        role: String,
    },
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// The server (http://host:7420).
    pub url: String,
    /// Your user name (asked for on a terminal when left out).
    #[arg(long)]
    pub name: Option<String>,
    /// Read the password from the first line of stdin.
    #[arg(long)]
    pub password_stdin: bool,
}

/// A password from stdin, BATON_PASSWORD, or a prompt with echo off.
fn read_password(from_stdin: bool, prompt: &str) -> CliResult<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    if let Ok(p) = std::env::var("BATON_PASSWORD") {
        if !p.is_empty() {
            return Ok(p);
        }
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::invalid("no password given")
            .with_hint("pass --password-stdin and write it to stdin, or set BATON_PASSWORD"));
    }
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    let echo_off = std::process::Command::new("stty")
        .arg("-echo")
        .stdin(std::process::Stdio::inherit())
        .status()
        .is_ok_and(|s| s.success());
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if echo_off {
        let _ = std::process::Command::new("stty")
            .arg("echo")
            .stdin(std::process::Stdio::inherit())
            .status();
        eprintln!();
    }
    read?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

pub fn user(ctx: &Context, command: UserCommand) -> CliResult {
    let api = ctx.instance_api()?;
    let i = api.instance();
    let actor = ctx.actor();
    match command {
        UserCommand::Add(args) => {
            let password = read_password(args.password_stdin, "Password: ")?;
            let user = i.add_user(
                &actor,
                NewUser {
                    name: args.name,
                    email: args.email,
                    password,
                    admin: args.admin,
                },
            )?;
            ctx.out.emit(&user, |w| {
                writeln!(
                    w,
                    "created user {}{}",
                    user.name,
                    if user.admin { " (admin)" } else { "" }
                )
            })
        }
        UserCommand::List => {
            let users = i.list_users()?;
            ctx.out.emit(&users, |w| {
                let mut t = Table::new(&["NAME", "EMAIL", "ADMIN", "DISABLED", "CREATED"]);
                for u in &users {
                    t.row(vec![
                        u.name.clone(),
                        or_dash(u.email.as_deref()),
                        yes(u.admin),
                        yes(u.disabled),
                        u.created_at.to_string(),
                    ]);
                }
                t.write(w)
            })
        }
        UserCommand::Set(args) => {
            let password = if args.password_stdin {
                Some(read_password(true, "")?)
            } else {
                None
            };
            let disabled = match (args.disable, args.enable) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            let user = i.update_user(
                &actor,
                &args.name,
                UserPatch {
                    email: args.email,
                    admin: args.admin,
                    disabled,
                    password,
                },
            )?;
            ctx.out
                .emit(&user, |w| writeln!(w, "updated user {}", user.name))
        }
    }
}

fn yes(b: bool) -> String {
    if b { "yes" } else { "-" }.to_string()
}

pub fn token(ctx: &Context, command: TokenCommand) -> CliResult {
    let api = ctx.instance_api()?;
    let i = api.instance();
    match command {
        TokenCommand::Create(args) => {
            let project = match args.project.as_deref() {
                Some("*") => None,
                Some(p) => Some(p.to_string()),
                None => Some(ctx.project_key().to_string()),
            };
            let expires_at = match &args.expires {
                None => None,
                Some(text) => {
                    Some(Timestamp::now().plus(parse_duration(text).ok_or_else(|| {
                        CliError::invalid(format!("'{text}' is not a duration"))
                            .with_hint("for example --expires 30d, 12h or 90m")
                    })?))
                }
            };
            let role = Role::parse(&args.role)?;
            // Through a server the maker is the caller; on this machine's store, a user.
            let remote = ctx.direct_database_url().is_none() && ctx.client()?.is_some();
            let maker = match (&args.user, remote) {
                (_, true) => String::new(),
                (Some(u), false) => u.clone(),
                (None, false) => only_admin(i)?,
            };
            // `--agent` typed on this line binds the token (not BATON_AGENT from the
            // environment, which names whoever runs the command).
            let agent = args.for_agent.or_else(|| {
                ctx.agent_on_command_line
                    .then(|| ctx.agent.clone())
                    .flatten()
            });
            let made = i.create_token(
                &maker,
                NewToken {
                    name: args.name,
                    project,
                    agent,
                    role,
                    expires_at,
                },
            )?;
            ctx.out.emit(&made, |w| {
                writeln!(w, "{}", made.token)?;
                writeln!(
                    w,
                    "token {} ({}) for {}{}, role {}: shown once, store it now",
                    made.info.id,
                    made.info.prefix,
                    made.info.project.as_deref().unwrap_or("every project"),
                    made.info
                        .agent
                        .as_deref()
                        .map(|a| format!(" as {a}"))
                        .unwrap_or_default(),
                    made.info.role
                )
            })
        }
        TokenCommand::List { project } => {
            let tokens = i.list_tokens(project.as_deref())?;
            ctx.out.emit(&tokens, |w| {
                let mut t = Table::new(&[
                    "ID",
                    "PREFIX",
                    "USER",
                    "PROJECT",
                    "AGENT",
                    "ROLE",
                    "EXPIRES",
                    "LAST USED",
                    "REVOKED",
                ]);
                for k in &tokens {
                    t.row(vec![
                        k.id.to_string(),
                        k.prefix.clone(),
                        k.user.clone(),
                        k.project.clone().unwrap_or_else(|| "*".into()),
                        or_dash(k.agent.as_deref()),
                        k.role.to_string(),
                        or_dash(k.expires_at.map(|t| t.to_string()).as_deref()),
                        or_dash(k.last_used_at.map(|t| t.to_string()).as_deref()),
                        or_dash(k.revoked_at.map(|t| t.to_string()).as_deref()),
                    ]);
                }
                t.write(w)
            })
        }
        TokenCommand::Revoke { id } => {
            let token = i.revoke_token(&ctx.actor(), id)?;
            ctx.out.emit(&token, |w| {
                writeln!(w, "revoked token {} ({})", token.id, token.prefix)
            })
        }
    }
}

/// On the server's machine, a token is made for the only admin unless `--user` says whom.
fn only_admin(i: &dyn Instance) -> CliResult<String> {
    let admins: Vec<_> = i.list_users()?.into_iter().filter(|u| u.admin).collect();
    match admins.as_slice() {
        [one] => Ok(one.name.clone()),
        [] => Err(CliError::new(
            ErrorClass::NotFound,
            "no_admin",
            "there is no user to make the token for",
        )
        .with_hint("create the first admin with `baton user add NAME --admin`")),
        _ => Err(CliError::invalid("several admins: whose token is it?")
            .with_hint("name the user with --user NAME")),
    }
}

pub fn project(ctx: &Context, command: ProjectCommand) -> CliResult {
    match command {
        ProjectCommand::Create { key, name } => {
            let name = name.unwrap_or_else(|| key.clone());
            let info = ctx.create_project(&key, &name)?;
            ctx.out.emit(&info, |w| {
                writeln!(w, "created project {} ({})", info.key, info.name)?;
                writeln!(
                    w,
                    "use it with --project {} or BATON_PROJECT={}",
                    info.key, info.key
                )
            })
        }
        ProjectCommand::List => {
            let api = ctx.instance_api()?;
            let projects = api.instance().list_projects()?;
            ctx.out.emit(&projects, |w| {
                let mut t = Table::new(&["KEY", "NAME", "CREATED BY", "CREATED"]);
                for p in &projects {
                    t.row(vec![
                        p.key.clone(),
                        p.name.clone(),
                        p.created_by.clone(),
                        p.created_at.to_string(),
                    ]);
                }
                t.write(w)
            })
        }
        ProjectCommand::Show { key } => {
            let api = ctx.instance_api()?;
            let i = api.instance();
            let info = i.get_project(&key)?;
            let members = i.members(&key)?;
            let value = json!({"project": info, "members": members});
            ctx.out.emit(&value, |w| {
                writeln!(
                    w,
                    "{} ({}), created by {} at {}",
                    info.key, info.name, info.created_by, info.created_at
                )?;
                let mut t = Table::new(&["USER", "ROLE"]);
                for m in &members {
                    t.row(vec![m.user.clone(), m.role.to_string()]);
                }
                t.write(w)
            })
        }
        ProjectCommand::Member { key, user, role } => {
            let role = match role.as_str() {
                "none" => None,
                other => Some(Role::parse(other)?),
            };
            let api = ctx.instance_api()?;
            let members = api.instance().set_member(&ctx.actor(), &key, &user, role)?;
            ctx.out.emit(&members, |w| {
                let mut t = Table::new(&["USER", "ROLE"]);
                for m in &members {
                    t.row(vec![m.user.clone(), m.role.to_string()]);
                }
                t.write(w)
            })
        }
    }
}

/// What `baton login` keeps: one credential per server, in a file only the user can read.
#[derive(Serialize, Deserialize, Default)]
pub struct Credentials {
    #[serde(default)]
    pub servers: std::collections::BTreeMap<String, Stored>,
}

#[derive(Serialize, Deserialize, Clone)]
pub struct Stored {
    pub token: String,
    pub user: String,
    pub expires_at: Option<Timestamp>,
}

/// `$XDG_CONFIG_HOME/baton/credentials.json` (or `~/.config/baton/...`).
pub fn credentials_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("baton").join("credentials.json"))
}

pub fn read_credentials() -> Credentials {
    credentials_path()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// The stored credential for `url`, if it has not expired.
pub fn stored_token(url: &str) -> Option<String> {
    let key = url.trim().trim_end_matches('/');
    read_credentials()
        .servers
        .get(key)
        .filter(|s| s.expires_at.is_none_or(|at| at > Timestamp::now()))
        .map(|s| s.token.clone())
}

fn write_credentials(credentials: &Credentials) -> CliResult {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let path = credentials_path().ok_or_else(|| {
        CliError::invalid("cannot tell where to keep the credential")
            .with_hint("set HOME or XDG_CONFIG_HOME")
    })?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    let tmp = path.with_extension("json.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(&serde_json::to_vec_pretty(credentials).map_err(std::io::Error::from)?)?;
    file.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    Ok(())
}

pub fn login(ctx: &Context, args: LoginArgs) -> CliResult {
    let url = args.url.trim().trim_end_matches('/').to_string();
    let client = baton_client::Client::new(&url, None)?;
    let name = match args.name {
        Some(n) => n,
        None if std::io::stdin().is_terminal() && !args.password_stdin => {
            eprint!("User: ");
            std::io::stderr().flush()?;
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim().to_string()
        }
        None => return Err(CliError::invalid("no user name given").with_hint("pass --name NAME")),
    };
    let password = read_password(args.password_stdin, "Password: ")?;
    let (user, session) = client.login(&name, &password, "")?;
    let mut credentials = read_credentials();
    credentials.servers.insert(
        url.clone(),
        Stored {
            token: session.id.clone(),
            user: user.name.clone(),
            expires_at: Some(session.expires_at),
        },
    );
    write_credentials(&credentials)?;
    let shown = json!({"url": url, "user": user.name, "expires_at": session.expires_at,
        "stored": credentials_path()});
    ctx.out.emit(&shown, |w| {
        writeln!(
            w,
            "logged in to {url} as {} until {}",
            user.name, session.expires_at
        )?;
        writeln!(w, "commands use it with BATON_URL={url}")
    })
}

pub fn logout(ctx: &Context, url: Option<String>) -> CliResult {
    let url = match url.or(ctx.server_url()?) {
        Some(u) => u.trim().trim_end_matches('/').to_string(),
        None => {
            return Err(
                CliError::invalid("which server?").with_hint("baton logout URL, or set BATON_URL")
            )
        }
    };
    let mut credentials = read_credentials();
    let removed = credentials.servers.remove(&url);
    if let Some(stored) = &removed {
        // End it on the server too; a server that is gone cannot keep it anyway.
        if let Ok(client) = baton_client::Client::new(&url, None) {
            let _ = client.logout(&stored.token);
        }
        write_credentials(&credentials)?;
    }
    let shown = json!({"url": url, "logged_out": removed.is_some()});
    ctx.out.emit(&shown, |w| match removed {
        Some(_) => writeln!(w, "logged out of {url}"),
        None => writeln!(w, "no stored login for {url}"),
    })
}

pub fn whoami(ctx: &Context) -> CliResult {
    let value = match ctx.client()? {
        Some(client) => {
            let mut v = client.whoami()?;
            v["server"] = json!(client.url());
            v
        }
        None => json!({
            "mode": "local",
            "server": null,
            "project": ctx.project_key(),
            "user": ctx.actor(),
            "role": "admin",
            "admin": true,
            "agent": ctx.agent,
            "token": null,
        }),
    };
    let mut value = value;
    // The AI coding tool this runs under (from its environment), or none.
    value["tool"] = serde_json::json!(super::ops::detect_tool());
    // The open session of whoever this acts as, when it can be read.
    let open = ctx.api().ok().and_then(|api| {
        api.operations()
            .sessions(&baton_core::api::SessionQuery {
                identity: Some(ctx.actor()),
                open: true,
                limit: Some(1),
            })
            .ok()
    });
    value["session"] = json!(open.and_then(|s| s.into_iter().next()));
    ctx.out.emit(&value, |w| {
        let text = |k: &str| value[k].as_str().unwrap_or("-").to_string();
        writeln!(w, "user     {}", text("user"))?;
        writeln!(w, "tool     {}", text("tool"))?;
        writeln!(w, "project  {}", text("project"))?;
        writeln!(w, "role     {}", text("role"))?;
        writeln!(w, "server   {}", text("server"))?;
        writeln!(w, "mode     {}", text("mode"))?;
        match value["session"]["id"].as_str() {
            Some(id) => writeln!(
                w,
                "session  {id} ({})",
                value["session"]["purpose"]
                    .as_str()
                    .unwrap_or("no purpose given")
            )?,
            None => writeln!(w, "session  none (baton session start)")?,
        }
        if let Some(agent) = value["agent"].as_str() {
            writeln!(w, "agent    {agent}")?;
        }
        Ok(())
    })
}
