//! `baton serve`: the board over HTTP.
//!
//! - [`workers`]: the store's calls run on their own threads (one writer, a few readers),
//!   never on the async runtime.
//! - [`routes`]: REST under `/api/v1`, one file per resource, documented with OpenAPI.
//! - [`feed`]: the live event stream (Server-Sent Events), tailing the events table so it
//!   also carries changes that CLI processes wrote to the file directly.
//! - [`metrics`]: `/metrics` in Prometheus text format.
//! - [`guard`]: the Host, cross-site and content-type checks in front of every route.

pub mod access;
pub mod auth;
pub mod backend;
pub mod dashboard;
pub mod error;
pub mod feed;
pub mod guard;
pub mod json;
pub mod mcp;
pub mod metrics;
pub mod otlp;
pub mod projects;
pub mod routes;
pub mod tls;
pub mod webhooks;
pub mod workers;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use backend::{Backend, PostgresBackend, SqliteBackend, Writer};
pub use error::ApiError;

/// The header that names the acting agent. Without it a request acts as `human`.
pub const AGENT_HEADER: &str = "x-baton-agent";

/// Everything a handler reaches.
#[derive(Clone)]
pub struct AppState {
    pub writer: workers::Workers,
    pub readers: workers::Workers,
    pub feed: feed::Feed,
    pub metrics: Arc<metrics::Metrics>,
    pub shutdown: watch::Receiver<bool>,
    pub started: std::time::Instant,
    /// The project directory, for the code index (`None`: no code routes).
    pub code_root: Option<std::path::PathBuf>,
    /// The names the server answers to (every route, `/mcp` included).
    pub hosts: Arc<guard::AllowedHosts>,
    /// Local or team mode, sessions and the setup code (one for the whole server).
    pub auth: Arc<auth::Auth>,
    /// The key of the project these workers serve.
    pub project: Arc<str>,
    /// The instance store's workers (the default project's): users, tokens, projects.
    pub instance_writer: workers::Workers,
    pub instance_readers: workers::Workers,
    /// The other projects (only on the server's top-level state).
    pub projects: Option<Arc<projects::Projects>>,
}

/// Tuning of one server.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Threads that serve reads, each with its own connection.
    pub readers: usize,
    /// How often the feed looks for events written by other processes.
    pub poll_interval: Duration,
    /// The project directory whose code index (`.baton/code.db`) `/api/v1/code` answers from.
    pub code_root: Option<std::path::PathBuf>,
    /// DNS names the server answers to besides `localhost` and IP addresses
    /// (`--allowed-host`); see [`guard`].
    pub allowed_hosts: Vec<String>,
    /// Team mode: every route but a few needs a credential (see [`auth`]).
    pub team: bool,
    /// The key sessions are signed with (`BATON_JWT_SECRET`); else the store's.
    pub session_secret: Option<String>,
    /// A one-time code that creates the first admin over HTTP while there is no user.
    pub setup_code: Option<String>,
    /// Cookies are marked `Secure` (the server speaks TLS).
    pub secure_cookies: bool,
    /// Serve HTTPS with this certificate and key (see [`tls`]).
    pub tls: Option<tls::TlsFiles>,
    /// How often each project's `log_retention` is applied in the background.
    pub retention_every: Duration,
    /// How webhooks are sent: retries, backoff, timeout.
    pub webhooks: webhooks::WebhookOptions,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            readers: 2,
            poll_interval: Duration::from_millis(100),
            code_root: None,
            allowed_hosts: Vec::new(),
            team: false,
            session_secret: None,
            setup_code: None,
            secure_cookies: false,
            tls: None,
            retention_every: Duration::from_secs(600),
            webhooks: webhooks::WebhookOptions::default(),
        }
    }
}

/// A running server: its address, and the handle that stops it.
pub struct Server {
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Binds `addr` and serves in the background of the current runtime.
    pub async fn start(
        backend: Arc<dyn Backend>,
        addr: SocketAddr,
        options: ServerOptions,
    ) -> baton_core::Result<Server> {
        let listener =
            TcpListener::bind(addr)
                .await
                .map_err(|e| match e.kind() {
                    // Taken by another program: a conflict over the port, not a store fault.
                    std::io::ErrorKind::AddrInUse => baton_core::Error::Conflict {
                        code: "port_in_use",
                        message: format!("cannot listen on {addr}: the port is in use"),
                        hint: Some(
                            "pick another port with --port (0 picks a free one), or stop what uses this one"
                                .into(),
                        ),
                    },
                    _ => baton_core::Error::Unavailable {
                        message: format!("cannot listen on {addr}: {e}"),
                        hint: Some("pick another port with --port, or bind another address".into()),
                    },
                })?;
        let addr = listener.local_addr().map_err(|e| internal(&e))?;
        let acceptor = match &options.tls {
            Some(files) => Some(tls::acceptor(files)?),
            None => None,
        };
        let mut options = options;
        options.secure_cookies |= acceptor.is_some();
        let (stop, shutdown) = watch::channel(false);
        // Opening connections blocks (the PostgreSQL client runs its own small runtime,
        // which may not start inside this one): off the async threads.
        let opening = shutdown.clone();
        let state = tokio::task::spawn_blocking(move || build_state(backend, &options, opening))
            .await
            .map_err(|e| internal(&e))??;
        let app = app(state);
        let mut until = shutdown;
        if let Some(acceptor) = acceptor {
            let task = tokio::spawn(tls::serve(listener, acceptor, app, until));
            return Ok(Server { addr, stop, task });
        }
        let task = tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = until.wait_for(|stop| *stop).await;
            })
            .await
        });
        Ok(Server { addr, stop, task })
    }

    /// Stops taking connections, lets requests in flight finish, ends event streams.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.stop.send(true);
        match self.task.await {
            Ok(result) => result,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }

    /// A handle that triggers the same shutdown from elsewhere (a signal handler).
    pub fn stopper(&self) -> watch::Sender<bool> {
        self.stop.clone()
    }

    /// Waits until the server has stopped.
    pub async fn wait(self) -> std::io::Result<()> {
        match self.task.await {
            Ok(result) => result,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }
}

fn internal(e: &dyn std::fmt::Display) -> baton_core::Error {
    baton_core::Error::Internal(e.to_string())
}

/// Opens the workers and the feed over `backend` (the default project), the instance's
/// authentication, and the registry of the other projects.
pub fn build_state(
    backend: Arc<dyn Backend>,
    options: &ServerOptions,
    shutdown: watch::Receiver<bool>,
) -> baton_core::Result<AppState> {
    let hosts = Arc::new(guard::AllowedHosts::new(&options.allowed_hosts)?);
    let (writer, readers, feed) = open_workers(&backend, options, &shutdown)?;
    let auth = if options.team {
        let key = match &options.session_secret {
            Some(secret) if secret.len() >= 32 => secret.clone(),
            Some(_) => {
                return Err(baton_core::Error::invalid_with_hint(
                    "BATON_JWT_SECRET is shorter than 32 characters",
                    "use a long random value (openssl rand -hex 32), or unset it to keep the key in the store",
                ))
            }
            None => writer.run_blocking(|api| api.instance().session_key())?,
        };
        auth::Auth::team(
            key.as_bytes(),
            options.setup_code.as_deref(),
            options.secure_cookies,
        )
    } else {
        auth::Auth::local()
    };
    let auth = Arc::new(auth.with_clock(backend.clock()));
    auth.watch(&feed, shutdown.clone());
    let mut state = AppState {
        instance_writer: writer.clone(),
        instance_readers: readers.clone(),
        writer,
        readers,
        feed,
        metrics: Arc::new(metrics::Metrics::default()),
        shutdown,
        started: std::time::Instant::now(),
        code_root: options.code_root.clone(),
        hosts,
        auth,
        project: Arc::from(baton_core::instance::DEFAULT_PROJECT),
        projects: None,
    };
    state.projects = Some(Arc::new(projects::Projects::new(
        backend,
        options.clone(),
        state.clone(),
    )));
    Ok(state)
}

/// A project's writer, readers and event feed.
pub(crate) fn open_workers(
    backend: &Arc<dyn Backend>,
    options: &ServerOptions,
    shutdown: &watch::Receiver<bool>,
) -> baton_core::Result<(workers::Workers, workers::Workers, feed::Feed)> {
    let feed = feed::Feed::start(backend.clone(), options.poll_interval, shutdown.clone())?;
    let wake = feed.waker();
    backend.watch_changes(wake.clone(), shutdown.clone())?;
    let writer = workers::Workers::writer(backend.clone(), wake)?;
    let readers =
        workers::Workers::readers("baton-reader", options.readers.max(1), backend.clone())?;
    workers::apply_retention(
        writer.clone(),
        readers.clone(),
        options.retention_every,
        shutdown.clone(),
    )?;
    webhooks::deliver(writer.clone(), options.webhooks, shutdown.clone())?;
    Ok((writer, readers, feed))
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    routes::router(state)
}
