//! `baton serve` (foreground) and `baton server start|stop|status|logs` (a daemon whose pid,
//! address and log live under `.baton/`).

use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_core::ErrorClass;
use baton_server::{Backend, PostgresBackend, Server, ServerOptions, SqliteBackend};
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};

use super::Context;
use crate::error::{CliError, CliResult};
use crate::project::Project;

pub const DEFAULT_PORT: u16 = 7420;
const STATE_FILE: &str = "server.json";
const LOG_FILE: &str = "server.log";
/// How long `server start` waits for `/health`, and `server stop` for the exit.
const WAIT: Duration = Duration::from_secs(15);

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Port to listen on (0 picks a free one; `baton server status` tells which).
    #[arg(long, short, default_value_t = DEFAULT_PORT)]
    pub port: u16,
    /// Address to bind. Loopback by default (local mode: no accounts). Any other address
    /// is team mode and needs a user first (`baton user add NAME --admin`).
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Threads serving reads, each with its own database connection.
    #[arg(long, default_value_t = 2)]
    pub readers: usize,
    /// Serve a PostgreSQL database (postgres://user:password@host:port/name) instead of the
    /// project's SQLite file; several servers may share one. Created and upgraded on start.
    #[arg(long, env = "BATON_DATABASE_URL", hide_env_values = true)]
    pub database: Option<String>,
    /// A DNS name clients use to reach the server (repeatable; `NAME:PORT` admits one port
    /// only). Requests naming any other host are refused (a guard against DNS rebinding,
    /// where a web page aims its own name at this machine); `localhost` and IP addresses
    /// are always served. Needed for a name such as `board.example` with --bind 0.0.0.0.
    #[arg(
        long = "allowed-host",
        value_name = "NAME",
        env = "BATON_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub allowed_hosts: Vec<String>,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key. Browsers then use
    /// HTTP/2, and the session cookie is marked Secure.
    #[arg(long, value_name = "PEM", requires = "tls_key", env = "BATON_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert", env = "BATON_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// How long a failed webhook delivery waits before its first retry; each further retry
    /// waits twice as long, at most 10 minutes.
    #[arg(long, value_name = "DURATION", env = "BATON_WEBHOOK_RETRY", default_value = "1s",
          value_parser = duration)]
    pub webhook_retry: Duration,
    /// Attempts per webhook delivery before it is marked failed.
    #[arg(long, value_name = "N", env = "BATON_WEBHOOK_ATTEMPTS", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub webhook_attempts: u32,
    /// How long one webhook attempt may take (connecting included).
    #[arg(long, value_name = "DURATION", env = "BATON_WEBHOOK_TIMEOUT", default_value = "10s",
          value_parser = duration)]
    pub webhook_timeout: Duration,
    /// Let webhooks reach loopback, private and link-local addresses in team mode. By
    /// default a team-mode server sends them only to public addresses (the check is made
    /// on the addresses it connects to), so that whoever may add a webhook cannot make it
    /// call services inside its network; a local-mode server sends them anywhere.
    #[arg(long, env = "BATON_WEBHOOK_PRIVATE_HOSTS")]
    pub webhook_private_hosts: bool,
}

fn duration(text: &str) -> Result<Duration, String> {
    baton_core::time::parse_duration(text)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{text:?} is not a duration (500ms, 10s, 2m)"))
}

#[derive(Subcommand, Debug)]
pub enum ServerCommand {
    /// Start `baton serve` in the background; returns once it answers /health.
    Start(ServeArgs),
    /// Stop the background server (it finishes requests in flight first).
    Stop,
    /// Whether the server runs, its pid and URL.
    Status,
    /// Print the server's log; -f keeps following it.
    Logs(LogsArgs),
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// Keep printing new lines as they are written.
    #[arg(long, short)]
    pub follow: bool,
    /// Print the last N lines (0 = all).
    #[arg(long, short = 'n', default_value_t = 100)]
    pub lines: usize,
}

/// What a running server leaves in `.baton/server.json`, for `status` and `stop`.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ServerState {
    pub pid: u32,
    pub url: String,
    pub port: u16,
    pub bind: IpAddr,
    pub database: PathBuf,
    pub started_at: baton_core::time::Timestamp,
}

fn state_path(project: &Project) -> PathBuf {
    project.dir().join(STATE_FILE)
}

fn read_state(project: &Project) -> Option<ServerState> {
    let text = std::fs::read_to_string(state_path(project)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Written then renamed, so a reader never sees half a file.
fn write_state(project: &Project, state: &ServerState) -> std::io::Result<()> {
    let path = state_path(project);
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(state)?)?;
    std::fs::rename(tmp, path)
}

/// Takes `server.json` for this server unless another live server holds it: a second
/// server on a project (a foreground `serve` beside `server start`, a replica) must not
/// take the first one's state, or `server status` and `server stop` lose it. The file is
/// created with a link, which fails when it exists, so two servers starting at once do
/// not both win. Answers the other server's state when it keeps the file.
fn claim_state(project: &Project, state: &ServerState) -> std::io::Result<Option<ServerState>> {
    let path = state_path(project);
    let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
    std::fs::write(&tmp, serde_json::to_vec_pretty(state)?)?;
    let result = (|| {
        for _ in 0..3 {
            match std::fs::hard_link(&tmp, &path) {
                Ok(()) => return Ok(None),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            match read_state(project) {
                Some(other) if other.pid != state.pid && pid_alive(other.pid) => {
                    return Ok(Some(other))
                }
                // Left by a server that is gone (or unreadable): replace it.
                _ => match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                },
            }
        }
        write_state(project, state).map(|()| None)
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

fn pid_alive(pid: u32) -> bool {
    // Linux: a live (or zombie) process has a /proc entry; a zombie is reported dead.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

pub fn serve(ctx: &Context, args: ServeArgs) -> CliResult {
    // With a database URL no checkout is needed (a replica on a server machine); a project
    // around, if any, still names the board and keeps the state file for `server status`.
    let project = match &args.database {
        Some(_) => ctx.project().ok(),
        None => Some(ctx.project()?),
    };
    // A board `baton migrate` moved is served from where it went.
    let moved = match &args.database {
        Some(_) => None,
        None => project.as_ref().and_then(Project::moved_to),
    };
    let (backend, database) = open_backend(
        project.as_ref(),
        args.database.as_deref().or(moved.as_deref()),
    )?;
    let users = backend.open()?.instance().user_count()?;
    let team = users > 0 || !args.bind.is_loopback() || args.database.is_some() || moved.is_some();
    if !args.bind.is_loopback() && users == 0 {
        return Err(CliError::new(
            ErrorClass::Conflict,
            "no_admin",
            format!(
                "binding {} makes the board reachable from other machines, and it has no \
                 user yet: anyone could use it",
                args.bind
            ),
        )
        .with_hint(
            "create the first admin on this machine with `baton user add NAME --admin` \
             (with the same --database, if any), then start the server again",
        ));
    }
    if !args.bind.is_loopback() && args.allowed_hosts.is_empty() {
        eprintln!(
            "baton: requests must address this server by IP address (or localhost); a DNS \
             name is refused unless given with --allowed-host NAME (or BATON_ALLOWED_HOSTS)"
        );
    }
    let setup_code = (team && users == 0).then(baton_core::auth::new_secret_id);
    if let Some(code) = &setup_code {
        eprintln!(
            "baton: team mode and no user yet. Create the first admin with \
             `baton user add NAME --admin` on this machine, or once over HTTP with the \
             one-time setup code {code} (POST /api/v1/auth/setup, or the page's login form)"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let options = ServerOptions {
        readers: args.readers.max(1),
        code_root: project.as_ref().map(|p| p.root.clone()),
        allowed_hosts: args.allowed_hosts.clone(),
        team,
        session_secret: std::env::var("BATON_JWT_SECRET")
            .ok()
            .filter(|s| !s.is_empty()),
        setup_code,
        tls: match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some(baton_server::tls::TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ => None,
        },
        webhooks: baton_server::webhooks::WebhookOptions {
            retry: baton_core::api::RetryPolicy {
                attempts: args.webhook_attempts,
                base: args.webhook_retry,
                cap: Duration::from_secs(600).max(args.webhook_retry),
            },
            timeout: args.webhook_timeout,
            private_hosts: !team || args.webhook_private_hosts,
            ..Default::default()
        },
        ..ServerOptions::default()
    };
    let scheme = if options.tls.is_some() {
        "https"
    } else {
        "http"
    };
    runtime.block_on(async {
        let server = Server::start(backend, SocketAddr::new(args.bind, args.port), options).await?;
        let url = format!("{scheme}://{}", server.addr);
        let state = ServerState {
            pid: std::process::id(),
            url: url.clone(),
            port: server.addr.port(),
            bind: args.bind,
            database: database.clone(),
            started_at: baton_core::time::Timestamp::now(),
        };
        if let Some(project) = &project {
            if let Some(other) = claim_state(project, &state)? {
                eprintln!(
                    "baton: another server (pid {}) already serves this project at {}; this \
                     one runs beside it, and commands in the project keep using that one \
                     (`baton server status`)",
                    other.pid, other.url
                );
            }
        }
        eprintln!(
            "baton: serving on {url} (database {}, {} mode); Ctrl-C stops",
            database.display(),
            if team { "team" } else { "local" }
        );
        let stop = server.stopper();
        tokio::spawn(async move {
            wait_for_signal().await;
            eprintln!("baton: shutting down; finishing requests in flight");
            let _ = stop.send(true);
        });
        let result = server.wait().await;
        // Only remove the state file if it is still ours (a second server may have replaced it).
        if let Some(project) = &project {
            if read_state(project).is_some_and(|s| s.pid == std::process::id()) {
                let _ = std::fs::remove_file(state_path(project));
            }
        }
        eprintln!("baton: stopped");
        result.map_err(CliError::from)
    })
}

/// The board to serve: the PostgreSQL database at `url`, else the project's SQLite file.
/// Returns it and what to call it in messages (a URL without its password).
fn open_backend(
    project: Option<&Project>,
    url: Option<&str>,
) -> Result<(Arc<dyn Backend>, PathBuf), CliError> {
    let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
        let project = project.ok_or_else(|| {
            CliError::invalid("no project here and no database URL given")
                .with_hint("run `baton init`, or pass --database postgres://...")
        })?;
        let database = project.database();
        return Ok((Arc::new(SqliteBackend::new(&database)?), database));
    };
    let url = super::postgres_url(url)?;
    let name = project.map_or("baton", |p| p.config.name.as_str());
    let backend = PostgresBackend::new(url, name)?;
    let described = PathBuf::from(backend.describe());
    Ok((Arc::new(backend), described))
}

async fn wait_for_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let terminated = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminated => {}
    }
}

pub fn server(ctx: &Context, command: ServerCommand) -> CliResult {
    let project = ctx.project()?;
    match command {
        ServerCommand::Start(args) => start(ctx, &project, args),
        ServerCommand::Stop => stop(ctx, &project),
        ServerCommand::Status => status(ctx, &project),
        ServerCommand::Logs(args) => logs(&project, args),
    }
}

/// The state of a server that runs and answers, or why not.
pub(crate) fn running(project: &Project) -> Result<ServerState, CliError> {
    let not_running = |why: &str| {
        CliError::new(ErrorClass::NotFound, "server_not_running", why.to_string())
            .with_hint("start it with `baton server start` (or run `baton serve` in a terminal)")
    };
    let state =
        read_state(project).ok_or_else(|| not_running("no Baton server runs for this project"))?;
    if !pid_alive(state.pid) {
        let _ = std::fs::remove_file(state_path(project));
        return Err(not_running(&format!(
            "the server (pid {}) is gone; it left {} behind, now removed",
            state.pid, STATE_FILE
        )));
    }
    Ok(state)
}

fn healthy(url: &str) -> bool {
    // A self-signed certificate is not one the client trusts: over HTTPS, answering on the
    // port is enough.
    if let Some(address) = url.strip_prefix("https://") {
        return std::net::TcpStream::connect(address).is_ok();
    }
    baton_client::Client::new(url, None)
        .and_then(|c| c.health())
        .is_ok()
}

fn start(ctx: &Context, project: &Project, args: ServeArgs) -> CliResult {
    if let Ok(state) = running(project) {
        return ctx.out.emit(
            &serde_json::json!({ "running": true, "already": true, "pid": state.pid, "url": state.url }),
            |w| writeln!(w, "Already running: {} (pid {})", state.url, state.pid),
        );
    }
    // Fail here, with the real reason, rather than in the background.
    open_backend(Some(project), args.database.as_deref())?;
    let log_path = project.dir().join(LOG_FILE);
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)?;
    let log_start = log.metadata()?.len();
    let exe = std::env::current_exe()?;
    use std::os::unix::process::CommandExt;
    let mut child = std::process::Command::new(exe)
        .arg("serve")
        .arg("--port")
        .arg(args.port.to_string())
        .arg("--bind")
        .arg(args.bind.to_string())
        .arg("--readers")
        .arg(args.readers.to_string())
        .args(
            args.allowed_hosts
                .iter()
                .flat_map(|name| ["--allowed-host", name.as_str()]),
        )
        .args(
            args.tls_cert
                .iter()
                .flat_map(|p| [std::ffi::OsStr::new("--tls-cert"), p.as_os_str()]),
        )
        .args(
            args.tls_key
                .iter()
                .flat_map(|p| [std::ffi::OsStr::new("--tls-key"), p.as_os_str()]),
        )
        .arg("--webhook-retry")
        .arg(baton_core::time::format_duration(args.webhook_retry))
        .arg("--webhook-attempts")
        .arg(args.webhook_attempts.to_string())
        .arg("--webhook-timeout")
        .arg(baton_core::time::format_duration(args.webhook_timeout))
        .args(
            args.webhook_private_hosts
                .then_some("--webhook-private-hosts"),
        )
        // The URL (it may hold a password) goes by the environment, not the command line.
        .envs(args.database.iter().map(|url| ("BATON_DATABASE_URL", url)))
        .current_dir(&project.root)
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Its own process group: a Ctrl-C in this terminal does not reach the daemon.
        .process_group(0)
        .spawn()?;
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(code) = child.try_wait()? {
            let tail = read_from(&log_path, log_start).unwrap_or_default();
            return Err(CliError::new(
                ErrorClass::Unavailable,
                "server_failed",
                format!(
                    "the server exited ({code}) before answering: {}",
                    tail.trim().lines().last().unwrap_or("no output")
                ),
            )
            .with_hint(format!("see {}", log_path.display())));
        }
        if let Some(state) = read_state(project).filter(|s| s.pid == child.id()) {
            if healthy(&state.url) {
                return ctx.out.emit(
                    &serde_json::json!({ "running": true, "pid": state.pid, "url": state.url, "log": log_path }),
                    |w| {
                        writeln!(w, "Started: {} (pid {})", state.url, state.pid)?;
                        writeln!(w, "Log: {}", log_path.display())
                    },
                );
            }
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(CliError::new(
                ErrorClass::Unavailable,
                "server_failed",
                format!(
                    "the server did not answer /health within {}s",
                    WAIT.as_secs()
                ),
            )
            .with_hint(format!("see {}", log_path.display())));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stop(ctx: &Context, project: &Project) -> CliResult {
    let state = running(project)?;
    signal(state.pid, "TERM")?;
    let deadline = Instant::now() + WAIT;
    while pid_alive(state.pid) {
        if Instant::now() > deadline {
            signal(state.pid, "KILL")?;
            eprintln!(
                "warning: the server did not stop within {}s; killed it",
                WAIT.as_secs()
            );
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if read_state(project).is_some_and(|s| s.pid == state.pid) {
        let _ = std::fs::remove_file(state_path(project));
    }
    ctx.out.emit(
        &serde_json::json!({ "stopped": true, "pid": state.pid }),
        |w| writeln!(w, "Stopped the server (pid {})", state.pid),
    )
}

fn signal(pid: u32, name: &str) -> CliResult {
    let status = std::process::Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .stderr(std::process::Stdio::null())
        .status()?;
    if status.success() || !pid_alive(pid) {
        Ok(())
    } else {
        Err(CliError::new(
            ErrorClass::Unavailable,
            "signal_failed",
            format!("could not signal the server (pid {pid})"),
        )
        .with_hint("is it running as another user?"))
    }
}

fn status(ctx: &Context, project: &Project) -> CliResult {
    let state = running(project)?;
    let answers = healthy(&state.url);
    let report = serde_json::json!({
        "running": true,
        "healthy": answers,
        "pid": state.pid,
        "url": state.url,
        "port": state.port,
        "bind": state.bind,
        "database": state.database,
        "started_at": state.started_at,
        "log": project.dir().join(LOG_FILE),
    });
    ctx.out.emit(&report, |w| {
        writeln!(
            w,
            "Running: {} (pid {}, since {}){}",
            state.url,
            state.pid,
            state.started_at,
            if answers {
                ""
            } else {
                ", but not answering /health"
            }
        )
    })
}

fn read_from(path: &Path, offset: u64) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    Ok(text)
}

fn logs(project: &Project, args: LogsArgs) -> CliResult {
    let path = project.dir().join(LOG_FILE);
    if !path.exists() {
        return Err(CliError::new(
            ErrorClass::NotFound,
            "no_log",
            format!("no server log at {}", path.display()),
        )
        .with_hint("the log is written by `baton server start`"));
    }
    let text = read_from(&path, 0)?;
    let lines: Vec<&str> = text.lines().collect();
    let skip = if args.lines == 0 {
        0
    } else {
        lines.len().saturating_sub(args.lines)
    };
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    for line in &lines[skip..] {
        writeln!(w, "{line}")?;
    }
    w.flush()?;
    if !args.follow {
        return Ok(());
    }
    let mut offset = text.len() as u64;
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if len < offset {
            offset = 0; // truncated or replaced
        }
        if len > offset {
            let fresh = read_from(&path, offset)?;
            offset += fresh.len() as u64;
            write!(w, "{fresh}")?;
            w.flush()?;
        }
    }
}
