//! Authentication in team mode: who is calling, from an API token (`Authorization: Bearer
//! baton_...`), a signed session (`Authorization: Bearer <JWT>`, what login returns) or the
//! page's session cookie. Then each route asks core's policy whether that caller's role in
//! the project may do the route's action ([`crate::access`]).
//!
//! Local mode (loopback, no users) keeps today's behaviour: no credential, every action.
//!
//! Nothing secret is logged or echoed: errors name a token by its visible prefix at most.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use baton_core::auth::{self, Role};
use baton_core::instance::{Principal, DEFAULT_PROJECT};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::access::{self, Access};
use crate::error::ApiError;
use crate::workers::Workers;
use crate::AppState;

/// The page's session cookie.
pub const COOKIE: &str = "baton_session";

/// Who is calling, as the routes see it.
#[derive(Clone, Debug)]
pub enum Caller {
    /// Local mode: no accounts; every action, acting as the named agent or `human`.
    Local,
    /// Team mode, a route that needs no credential.
    Anonymous,
    /// Team mode, a checked credential.
    Known(Arc<Known>),
}

#[derive(Debug)]
pub struct Known {
    pub principal: Principal,
    /// The login session's id, when the credential was one (for logout).
    pub session: Option<String>,
    pub via_cookie: bool,
    /// When the login session expires (from its signed token).
    pub expires: Option<baton_core::time::Timestamp>,
}

impl Caller {
    pub fn principal(&self) -> Option<&Principal> {
        match self {
            Caller::Known(k) => Some(&k.principal),
            _ => None,
        }
    }

    /// The caller's role in the project the request is for (local mode: every right).
    pub fn role(&self) -> Option<Role> {
        match self {
            Caller::Local => Some(Role::Admin),
            Caller::Anonymous => None,
            Caller::Known(k) => k.principal.role,
        }
    }

    /// Whether the caller may administer the instance.
    pub fn is_admin(&self) -> bool {
        match self {
            Caller::Local => true,
            Caller::Anonymous => false,
            Caller::Known(k) => k.principal.instance_admin(),
        }
    }

    /// The user name the caller acts under (local mode: `human`).
    pub fn user_name(&self) -> String {
        match self {
            Caller::Known(k) => k.principal.user.name.clone(),
            _ => baton_core::api::HUMAN.to_string(),
        }
    }
}

/// The claims of a login session's token.
#[derive(Serialize, Deserialize)]
struct Claims {
    /// The user's name.
    sub: String,
    /// The session's id in the store (revocation is looked up there).
    sid: String,
    iat: i64,
    exp: i64,
}

/// Checked credentials, kept for a moment so that every request does not read the store.
/// An entry is dropped when anything about users, tokens, sessions or roles changes: at
/// once for changes made through this server, and as soon as the event feed shows one
/// made elsewhere (another replica, a CLI process on the store); and it never lives longer
/// than [`CACHE_FOR`], which bounds how late a change seen by nobody can take effect.
#[derive(Default)]
struct Checked {
    entries: HashMap<(String, String), (Arc<Known>, Instant)>,
}

/// The longest a checked credential is trusted without reading the store again.
pub const CACHE_FOR: Duration = Duration::from_secs(1);
/// Entries kept at most (the cache is emptied when full).
const CACHE_ENTRIES: usize = 10_000;

/// Whether an event changes who may do what (so checked credentials must be checked again).
pub fn changes_access(action: &str) -> bool {
    ["auth.logout", "token.", "user.", "member.", "project."]
        .iter()
        .any(|p| action.starts_with(p))
}

/// The server's authentication: the mode, the session key, the setup code.
pub struct Auth {
    checked: Mutex<Checked>,
    team: bool,
    keys: Option<(EncodingKey, DecodingKey)>,
    /// The hash of the one-time setup code, while no user exists.
    setup: Mutex<Option<String>>,
    /// When each token was last written as used (writes are throttled to one a minute).
    used: Mutex<HashMap<u64, Instant>>,
    /// Cookies get `Secure` when the server speaks TLS.
    pub secure_cookies: bool,
    /// The boards' clock, which token and session expiry is judged by (real time unless a
    /// test moves it).
    clock: Option<baton_core::board::Clock>,
}

/// How often a token's last-used time is written.
const USED_EVERY: Duration = Duration::from_secs(60);

impl Auth {
    pub fn local() -> Auth {
        Auth {
            checked: Mutex::default(),
            team: false,
            keys: None,
            setup: Mutex::new(None),
            used: Mutex::default(),
            secure_cookies: false,
            clock: None,
        }
    }

    /// Team mode, signing sessions with `key`; `setup_code` lets the first admin be
    /// created over HTTP while there is no user.
    pub fn team(key: &[u8], setup_code: Option<&str>, secure_cookies: bool) -> Auth {
        Auth {
            checked: Mutex::default(),
            team: true,
            keys: Some((EncodingKey::from_secret(key), DecodingKey::from_secret(key))),
            setup: Mutex::new(setup_code.map(auth::token_hash)),
            used: Mutex::default(),
            secure_cookies,
            clock: None,
        }
    }

    /// Judges expiry by the boards' clock.
    pub fn with_clock(mut self, clock: Option<baton_core::board::Clock>) -> Auth {
        self.clock = clock;
        self
    }

    /// Now by the boards' clock.
    pub fn now(&self) -> baton_core::time::Timestamp {
        match &self.clock {
            Some(clock) => clock(),
            None => baton_core::time::Timestamp::now(),
        }
    }

    pub fn is_team(&self) -> bool {
        self.team
    }

    /// Signs a session's token (HS256), valid until the session expires.
    pub fn sign(
        &self,
        user: &str,
        session: &str,
        expires: baton_core::time::Timestamp,
    ) -> baton_core::Result<String> {
        let Some((encoding, _)) = &self.keys else {
            return Err(baton_core::Error::Conflict {
                code: "not_team_mode",
                message: "this server runs in local mode: there is nothing to log in to".into(),
                hint: Some("create the first admin with `baton user add NAME --admin`, then restart the server".into()),
            });
        };
        let now = baton_core::time::Timestamp::now().unix_millis() / 1000;
        let claims = Claims {
            sub: user.to_string(),
            sid: session.to_string(),
            iat: now,
            exp: expires.unix_millis() / 1000,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, encoding)
            .map_err(|e| baton_core::Error::Internal(format!("cannot sign a session: {e}")))
    }

    /// The session id inside a signed token and when it expires, if the signature and the
    /// expiry hold.
    fn session_of(&self, token: &str) -> Option<(String, baton_core::time::Timestamp)> {
        let (_, decoding) = self.keys.as_ref()?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, decoding, &validation).ok()?;
        let expires =
            baton_core::time::Timestamp::from_unix_millis(data.claims.exp.saturating_mul(1000))?;
        Some((data.claims.sid, expires))
    }

    /// Takes the setup code if it is the right one (it works once).
    pub fn take_setup_code(&self, code: &str) -> bool {
        let mut setup = self.setup.lock().unwrap_or_else(|p| p.into_inner());
        let ok = setup.as_deref().is_some_and(|hash| {
            auth::same_secret(hash.as_bytes(), auth::token_hash(code).as_bytes())
        });
        if ok {
            *setup = None;
        }
        ok
    }

    /// Drops every checked credential (something about access changed).
    pub fn forget(&self) {
        self.checked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entries
            .clear();
    }

    fn recall(&self, key: &(String, String)) -> Option<Arc<Known>> {
        let checked = self.checked.lock().unwrap_or_else(|p| p.into_inner());
        let (known, at) = checked.entries.get(key)?;
        if at.elapsed() >= CACHE_FOR {
            return None;
        }
        let now = self.now();
        let expired = known
            .principal
            .token
            .as_ref()
            .and_then(|t| t.expires_at)
            .is_some_and(|at| at <= now)
            || known.expires.is_some_and(|at| at <= now);
        (!expired).then(|| known.clone())
    }

    fn remember(&self, key: (String, String), known: Arc<Known>) {
        let mut checked = self.checked.lock().unwrap_or_else(|p| p.into_inner());
        if checked.entries.len() >= CACHE_ENTRIES {
            checked.entries.clear();
        }
        checked.entries.insert(key, (known, Instant::now()));
    }

    /// Empties the cache whenever the feed carries a change of access (made by anyone).
    pub fn watch(
        self: &Arc<Self>,
        feed: &crate::feed::Feed,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        if !self.team {
            return;
        }
        let mut events = feed.subscribe();
        let auth = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let received = tokio::select! {
                    r = events.recv() => r,
                    _ = shutdown.wait_for(|stop| *stop) => return,
                };
                let Some(auth) = auth.upgrade() else { return };
                match received {
                    Ok(event) if changes_access(&event.action) => auth.forget(),
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => auth.forget(),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });
    }

    fn should_mark_used(&self, token: u64) -> bool {
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match used.get(&token) {
            Some(at) if now.duration_since(*at) < USED_EVERY => false,
            _ => {
                used.insert(token, now);
                true
            }
        }
    }
}

/// The project a path is for: `/api/v1/projects/{key}/...` names one, anything else is the
/// default project's.
pub fn project_of_path(path: &str) -> &str {
    path.strip_prefix("/api/v1/projects/")
        .and_then(|rest| rest.split_once('/'))
        .map(|(key, _)| key)
        .filter(|key| !key.is_empty())
        .unwrap_or(DEFAULT_PROJECT)
}

/// The credential a request carries: a bearer token, else the session cookie.
fn credential(headers: &HeaderMap) -> Option<(String, bool)> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let text = value.to_str().unwrap_or("").trim();
        let token = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
            .unwrap_or("")
            .trim();
        return Some((token.to_string(), false));
    }
    for value in headers.get_all(header::COOKIE) {
        for pair in value.to_str().unwrap_or("").split(';') {
            if let Some((name, v)) = pair.trim().split_once('=') {
                if name == COOKIE && !v.is_empty() {
                    return Some((v.to_string(), true));
                }
            }
        }
    }
    None
}

/// The RFC 9728 metadata URL, for `WWW-Authenticate`.
fn metadata_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}/.well-known/oauth-protected-resource")
}

/// A 401 with the challenge that points at the protected-resource metadata.
pub fn challenge(headers: &HeaderMap, error: ApiError) -> Response {
    let mut response = error.into_response();
    let value = format!(
        "Bearer realm=\"baton\", resource_metadata=\"{}\"",
        metadata_url(headers)
    );
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

fn missing_credential() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "this server needs a credential",
    )
    .with_hint(
        "send `Authorization: Bearer TOKEN` (make one with `baton token create`), or log in \
         with `baton login URL`",
    )
}

/// The client's address, for the login limiter and the audit.
pub fn client_address(request: &Request) -> Option<IpAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The layer in front of every route: finds who is calling (team mode), or lets everyone
/// through (local mode).
pub async fn authenticate(State(s): State<AppState>, mut request: Request, next: Next) -> Response {
    if !s.auth.is_team() {
        request.extensions_mut().insert(Caller::Local);
        return next.run(request).await;
    }
    let method = request.method().clone();
    let path = request.uri().path();
    let public = access::is_public_path(&method, path);
    let project = project_of_path(path).to_string();
    let Some((secret, via_cookie)) = credential(request.headers()) else {
        if public {
            request.extensions_mut().insert(Caller::Anonymous);
            return next.run(request).await;
        }
        return challenge(request.headers(), missing_credential());
    };
    let known = match identify(&s, &secret, via_cookie, project).await {
        Ok(known) => known,
        // A bad cookie on a public route (an expired page session) is ignored there.
        Err(_) if public => {
            request.extensions_mut().insert(Caller::Anonymous);
            return next.run(request).await;
        }
        Err(e) => return challenge(request.headers(), e),
    };
    if known.via_cookie && !is_safe(&method) && !same_origin_browser(request.headers()) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_site_request",
            format!("{method} with the session cookie needs the page's own Origin"),
        )
        .with_hint("send writes from the dashboard, or use a bearer token")
        .into_response();
    }
    if let Some(token) = &known.principal.token {
        if s.auth.should_mark_used(token.id) {
            let id = token.id;
            let writer = s.instance_writer.clone();
            tokio::spawn(async move {
                let _ = writer.run(move |api| api.instance().token_used(id)).await;
            });
        }
    }
    let p = &known.principal;
    request.extensions_mut().insert(auth::Grant {
        user: p.user.name.clone(),
        project: p.project.clone(),
        role: p.role,
        agent: p.bound_agent().map(String::from),
    });
    request.extensions_mut().insert(Caller::Known(known));
    next.run(request).await
}

/// Who a credential is, from the cache of checked credentials or the store.
async fn identify(
    s: &AppState,
    secret: &str,
    via_cookie: bool,
    project: String,
) -> Result<Arc<Known>, ApiError> {
    let readers: &Workers = &s.instance_readers;
    if auth::is_api_token(secret) {
        let key = (auth::token_hash(secret), project.clone());
        if let Some(known) = s.auth.recall(&key).filter(|k| k.via_cookie == via_cookie) {
            return Ok(known);
        }
        let secret = secret.to_string();
        let principal = readers
            .run(move |api| api.instance().token_principal(&secret, &project))
            .await?;
        let known = Arc::new(Known {
            principal,
            session: None,
            via_cookie,
            expires: None,
        });
        s.auth.remember(key, known.clone());
        return Ok(known);
    }
    let Some((session, expires)) = s.auth.session_of(secret) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "the credential is not a valid token or session",
        )
        .with_hint("log in again, or check the token (it starts with baton_)"));
    };
    let key = (format!("session:{session}"), project.clone());
    if let Some(known) = s.auth.recall(&key).filter(|k| k.via_cookie == via_cookie) {
        return Ok(known);
    }
    let sid = session.clone();
    let principal = readers
        .run(move |api| api.instance().session_principal(&sid, &project))
        .await?;
    let known = Arc::new(Known {
        principal,
        session: Some(session),
        via_cookie,
        expires: Some(expires),
    });
    s.auth.remember(key, known.clone());
    Ok(known)
}

fn is_safe(method: &Method) -> bool {
    [Method::GET, Method::HEAD, Method::OPTIONS].contains(method)
}

/// A cookie-carrying write must come from the page itself: the browser says so with
/// `Sec-Fetch-Site: same-origin` or an `Origin` (the guard has already refused a foreign
/// one).
fn same_origin_browser(headers: &HeaderMap) -> bool {
    let fetch_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("same-origin"));
    fetch_site || headers.contains_key(header::ORIGIN)
}

/// The layer on each project's routes: the caller's role must allow the route's action.
pub async fn authorize(State(s): State<AppState>, request: Request, next: Next) -> Response {
    let caller = request
        .extensions()
        .get::<Caller>()
        .cloned()
        .unwrap_or(Caller::Anonymous);
    if matches!(caller, Caller::Local) {
        return next.run(request).await;
    }
    let template = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    let access = template
        .as_deref()
        .and_then(|t| access::of(request.method(), t));
    let allowed = match (access, &caller) {
        (None, _) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this route has no access rule, so it is refused",
        )),
        (Some(Access::Public), _) => Ok(()),
        (Some(_), Caller::Anonymous) => return challenge(request.headers(), missing_credential()),
        (Some(Access::Authenticated | Access::Handler), _) => Ok(()),
        (Some(Access::Admin), c) if c.is_admin() => Ok(()),
        (Some(Access::Admin), _) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only an admin of this server may do this",
        )
        .with_hint("ask an admin")),
        (Some(Access::Project(action)), c) => {
            baton_core::auth::require(c.role(), action, &s.project).map_err(ApiError::from)
        }
    };
    match allowed {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

/// The `Set-Cookie` value that stores a session for the page (or clears it).
pub fn session_cookie(token: Option<&str>, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = match token {
        Some(t) => format!("{COOKIE}={t}; HttpOnly; SameSite=Lax; Path=/; Max-Age=86400{secure}"),
        None => format!("{COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0{secure}"),
    };
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_of_access_are_the_instances_events() {
        for action in [
            "token.revoked",
            "user.updated",
            "member.changed",
            "auth.logout",
        ] {
            assert!(changes_access(action), "{action}");
        }
        for action in [
            "auth.login",
            "auth.login_failed",
            "task.created",
            "run.started",
        ] {
            assert!(!changes_access(action), "{action}");
        }
    }

    #[test]
    fn a_path_names_its_project() {
        assert_eq!(project_of_path("/api/v1/projects/web/tasks"), "web");
        assert_eq!(project_of_path("/api/v1/tasks"), DEFAULT_PROJECT);
        assert_eq!(project_of_path("/api/v1/projects"), DEFAULT_PROJECT);
        assert_eq!(project_of_path("/api/v1/projects/web"), DEFAULT_PROJECT);
    }

    #[test]
    fn a_bearer_token_wins_over_the_cookie() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; baton_session=xyz"),
        );
        assert_eq!(credential(&h), Some(("xyz".into(), true)));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer baton_1"),
        );
        assert_eq!(credential(&h), Some(("baton_1".into(), false)));
    }
}
