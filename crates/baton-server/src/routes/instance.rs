//! The instance's routes: logging in and out, the caller's profile, users, projects and
//! their members, API tokens, instance settings. Who may call each is in
//! [`crate::access`]; routes marked there as decided by the handler check the caller's
//! role in the project they name, through core's policy.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Extension, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use baton_core::auth::{self, Action, Role};
use baton_core::instance::{
    effective_role, settings, ApiToken, CreatedToken, Member, NewToken, NewUser, ProjectInfo, User,
    UserPatch,
};
use baton_core::Error;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{session_cookie, Caller};
use crate::error::{ApiError, ApiResult, Body, ErrorBody, Path, Query};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(register))
        .routes(routes!(setup))
        .routes(routes!(status))
        .routes(routes!(profile, update_profile))
        .routes(routes!(change_password))
        .routes(routes!(list_users, add_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project))
        .routes(routes!(list_members))
        .routes(routes!(set_member, remove_member))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(get_instance_setting, set_instance_setting))
        .routes(routes!(protected_resource))
}

/// The routes every project answers (its own `whoami`).
pub fn project_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(whoami))
}

/// The caller, as the authentication layer found it.
fn caller_of(caller: Option<Extension<Caller>>) -> Caller {
    caller.map(|c| c.0).unwrap_or(Caller::Anonymous)
}

/// The caller's role in `project` (which may not be the one the request's path named).
async fn role_in(s: &AppState, caller: &Caller, project: &str) -> ApiResult<Option<Role>> {
    let Caller::Known(known) = caller else {
        return Ok(caller.role());
    };
    let p = &known.principal;
    if p.project == project {
        return Ok(p.role);
    }
    let name = p.user.name.clone();
    let memberships = s
        .instance_readers
        .run(move |api| api.instance().memberships(&name))
        .await?;
    let member = memberships
        .iter()
        .find(|m| m.project == project)
        .map(|m| m.role);
    Ok(effective_role(&p.user, member, p.token.as_ref(), project))
}

async fn require_in(s: &AppState, caller: &Caller, project: &str, action: Action) -> ApiResult<()> {
    let role = role_in(s, caller, project).await?;
    Ok(auth::require(role, action, project)?)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    name: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
struct LoginAnswer {
    /// A signed session token: send it as `Authorization: Bearer TOKEN`. The page gets the
    /// same session as an HttpOnly cookie.
    token: String,
    expires_at: baton_core::time::Timestamp,
    user: User,
}

/// Log in with a name and password: a session for 24 hours (a bearer token for the API and
/// an HttpOnly, SameSite=Lax cookie for the page). Failed attempts are slowed down per user
/// and per address (429 with `Retry-After`).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginAnswer), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(s): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    Body(body): Body<LoginRequest>,
) -> Response {
    // The store counts failures per user and per address (core's login), so every server
    // on it, and a restarted one, slows the same attempts down.
    let from = connect.map(|c| c.0 .0.ip().to_string()).unwrap_or_default();
    let (name, password) = (body.name.clone(), body.password);
    let outcome = s
        .instance_writer
        .run(move |api| api.instance().login(&name, &password, &from))
        .await;
    let (user, session) = match outcome {
        Ok(found) => found,
        // A waiting account or address: 429 with `Retry-After`.
        Err(e) => return ApiError::from(e).into_response(),
    };
    let token = match s.auth.sign(&user.name, &session.id, session.expires_at) {
        Ok(t) => t,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let cookie = session_cookie(Some(&token), s.auth.secure_cookies);
    let mut response = Json(LoginAnswer {
        token,
        expires_at: session.expires_at,
        user,
    })
    .into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response
}

/// Log out: the session ends on the server (its token and cookie stop working).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204, description = "the session ended"), (status = 401, body = ErrorBody)))]
async fn logout(
    State(s): State<AppState>,
    caller: Option<Extension<Caller>>,
) -> ApiResult<Response> {
    if let Caller::Known(known) = caller_of(caller) {
        if let Some(session) = known.session.clone() {
            s.instance_writer
                .run(move |api| api.instance().logout(&session))
                .await?;
            s.auth.forget();
        }
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(None, s.auth.secure_cookies),
    );
    Ok(response)
}

/// Create an account, when an admin has opened registration (`open_registration`).
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = NewUser,
    responses((status = 201, body = User), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn register(
    State(s): State<AppState>,
    Body(new): Body<NewUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let open = s
        .instance_readers
        .run(|api| api.instance().instance_setting(settings::OPEN_REGISTRATION))
        .await?;
    if open.as_deref() != Some("true") {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "registration_closed",
            "this server does not take registrations",
        )
        .with_hint("ask an admin for an account"));
    }
    let new = NewUser {
        admin: false,
        ..new
    };
    let actor = new.name.clone();
    let user = s
        .instance_writer
        .run(move |api| api.instance().add_user(&actor, new))
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SetupRequest {
    /// The one-time code `baton serve` printed.
    code: String,
    name: String,
    #[serde(default)]
    email: Option<String>,
    password: String,
}

/// Create the first admin with the one-time code `baton serve` printed (only while the
/// server has no user).
#[utoipa::path(post, path = "/api/v1/auth/setup", tag = "auth", request_body = SetupRequest,
    responses((status = 201, body = User), (status = 403, body = ErrorBody)))]
async fn setup(
    State(s): State<AppState>,
    Body(req): Body<SetupRequest>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let users = s
        .instance_readers
        .run(|api| api.instance().user_count())
        .await?;
    if users > 0 || !s.auth.take_setup_code(&req.code) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "setup_refused",
            "the setup code is wrong, already used, or the server already has users",
        )
        .with_hint("on the server's machine, `baton user add NAME --admin` always works"));
    }
    let new = NewUser {
        name: req.name,
        email: req.email,
        password: req.password,
        admin: true,
    };
    let user = s
        .instance_writer
        .run(move |api| api.instance().add_user("setup", new))
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[derive(Serialize, ToSchema)]
struct AuthStatus {
    /// `local` (no accounts, loopback only) or `team` (every route needs a credential).
    mode: &'static str,
    registration_open: bool,
    /// No user exists yet: create the first admin.
    setup_needed: bool,
}

/// Whether this server needs a login, and whether it takes registrations (for the page).
#[utoipa::path(get, path = "/api/v1/auth/status", tag = "auth",
    responses((status = 200, body = AuthStatus)))]
async fn status(State(s): State<AppState>) -> ApiResult<Json<AuthStatus>> {
    let (users, open) = s
        .instance_readers
        .run(|api| {
            let i = api.instance();
            Ok((
                i.user_count()?,
                i.instance_setting(settings::OPEN_REGISTRATION)?,
            ))
        })
        .await?;
    Ok(Json(AuthStatus {
        mode: if s.auth.is_team() { "team" } else { "local" },
        registration_open: open.as_deref() == Some("true"),
        setup_needed: users == 0,
    }))
}

#[derive(Serialize, ToSchema)]
struct Profile {
    user: Option<User>,
    /// The projects the user has a role in (an admin has every role everywhere).
    memberships: Vec<Member>,
    /// The token in use, when the credential is one.
    token: Option<ApiToken>,
}

/// The caller's own account.
#[utoipa::path(get, path = "/api/v1/profile/me", tag = "auth",
    responses((status = 200, body = Profile), (status = 401, body = ErrorBody)))]
async fn profile(
    State(s): State<AppState>,
    caller: Option<Extension<Caller>>,
) -> ApiResult<Json<Profile>> {
    let Caller::Known(known) = caller_of(caller) else {
        return Ok(Json(Profile {
            user: None,
            memberships: Vec::new(),
            token: None,
        }));
    };
    let name = known.principal.user.name.clone();
    let (user, memberships) = s
        .instance_readers
        .run(move |api| {
            let i = api.instance();
            Ok((i.get_user(&name)?, i.memberships(&name)?))
        })
        .await?;
    Ok(Json(Profile {
        user: Some(user),
        memberships,
        token: known.principal.token.clone(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ProfileUpdate {
    email: Option<String>,
}

/// Change the caller's own email.
#[utoipa::path(put, path = "/api/v1/profile/me", tag = "auth", request_body = ProfileUpdate,
    responses((status = 200, body = User), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`no_account`: local mode has no accounts")))]
async fn update_profile(
    State(s): State<AppState>,
    caller: Option<Extension<Caller>>,
    Body(update): Body<ProfileUpdate>,
) -> ApiResult<Json<User>> {
    let name = known_user(&caller_of(caller))?;
    let user = s
        .instance_writer
        .run(move |api| {
            api.instance().update_user(
                &name,
                &name,
                UserPatch {
                    email: update.email,
                    ..UserPatch::default()
                },
            )
        })
        .await?;
    Ok(Json(user))
}

fn known_user(caller: &Caller) -> ApiResult<String> {
    match caller {
        Caller::Known(k) => Ok(k.principal.user.name.clone()),
        _ => Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_account",
            "this server runs in local mode: there is no account to change",
        )),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    current: String,
    new: String,
}

/// Change the caller's own password (the current one is needed). Every session of the
/// user ends, this one included.
#[utoipa::path(put, path = "/api/v1/profile/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204, description = "changed"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`no_account`: local mode has no accounts")))]
async fn change_password(
    State(s): State<AppState>,
    caller: Option<Extension<Caller>>,
    Body(change): Body<PasswordChange>,
) -> ApiResult<StatusCode> {
    let name = known_user(&caller_of(caller))?;
    s.instance_writer
        .run(move |api| {
            api.instance()
                .change_password(&name, &change.current, &change.new)
        })
        .await?;
    s.auth.forget();
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct WhoAmI {
    /// `local` or `team`.
    pub mode: String,
    pub project: String,
    /// The user (local mode: `human`).
    pub user: String,
    /// The role in this project; none = no access.
    pub role: Option<Role>,
    pub admin: bool,
    /// The agent requests act as when they name none (a token bound to an agent).
    pub agent: Option<String>,
    /// The visible prefix of the token in use.
    pub token: Option<String>,
}

/// Who the credential is, and what it may do in this project.
#[utoipa::path(get, path = "/api/v1/whoami", tag = "auth",
    responses((status = 200, body = WhoAmI), (status = 401, body = ErrorBody)))]
async fn whoami(State(s): State<AppState>, caller: Option<Extension<Caller>>) -> Json<WhoAmI> {
    let caller = caller_of(caller);
    let principal = caller.principal();
    Json(WhoAmI {
        mode: if s.auth.is_team() { "team" } else { "local" }.into(),
        project: s.project.to_string(),
        user: caller.user_name(),
        role: caller.role(),
        admin: caller.is_admin(),
        agent: principal.and_then(|p| p.bound_agent().map(String::from)),
        token: principal.and_then(|p| p.token.as_ref().map(|t| t.prefix.clone())),
    })
}

/// Every user (admins only).
#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = Vec<User>), (status = 403, body = ErrorBody)))]
async fn list_users(State(s): State<AppState>) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(
        s.instance_readers
            .run(|api| api.instance().list_users())
            .await?,
    ))
}

/// Create a user (admins only).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = User), (status = 409, body = ErrorBody)))]
async fn add_user(
    State(s): State<AppState>,
    caller: Option<Extension<Caller>>,
    Body(new): Body<NewUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let actor = caller_of(caller).user_name();
    let user = s
        .instance_writer
        .run(move |api| api.instance().add_user(&actor, new))
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// One user (admins only).
#[utoipa::path(get, path = "/api/v1/users/{name}", tag = "users",
    params(("name" = String, Path, description = "the user's name",
        pattern = "^[A-Za-z0-9._@:+-]{1,64}$")),
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
async fn get_user(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult<Json<User>> {
    Ok(Json(
        s.instance_readers
            .run(move |api| api.instance().get_user(&name))
            .await?,
    ))
}

/// Change a user: email, admin, disabled, or a new password (admins only). Disabling a
/// user or setting their password ends their sessions.
#[utoipa::path(patch, path = "/api/v1/users/{name}", tag = "users", request_body = UserPatch,
    params(("name" = String, Path, description = "the user's name",
        pattern = "^[A-Za-z0-9._@:+-]{1,64}$")),
    responses((status = 200, body = User), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn update_user(
    State(s): State<AppState>,
    caller: Option<Extension<Caller>>,
    Path(name): Path<String>,
    Body(patch): Body<UserPatch>,
) -> ApiResult<Json<User>> {
    let actor = caller_of(caller).user_name();
    let user = s
        .instance_writer
        .run(move |api| api.instance().update_user(&actor, &name, patch))
        .await?;
    s.auth.forget();
    Ok(Json(user))
}

/// The projects the caller has a role in (an admin: every project).
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects",
    responses((status = 200, body = Vec<ProjectInfo>)))]
async fn list_projects(
    State(s): State<AppState>,
    caller: Option<Extension<Caller>>,
) -> ApiResult<Json<Vec<ProjectInfo>>> {
    let caller = caller_of(caller);
    let all = s
        .instance_readers
        .run(|api| api.instance().list_projects())
        .await?;
    let mut visible = Vec::new();
    for project in all {
        if role_in(&s, &caller, &project.key).await?.is_some() {
            visible.push(project);
        }
    }
    Ok(Json(visible))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewProject {
    /// Lower-case letters, digits and dashes (`web`); it names the project in URLs.
    key: String,
    /// A name for people; the key when left out.
    #[serde(default)]
    name: Option<String>,
}

/// Create a project (admins only): its own storage, its own ids.
#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", request_body = NewProject,
    responses((status = 201, body = ProjectInfo), (status = 409, body = ErrorBody)))]
async fn create_project(
    State(s): State<AppState>,
    caller: Option<Extension<Caller>>,
    Body(new): Body<NewProject>,
) -> ApiResult<(StatusCode, Json<ProjectInfo>)> {
    let actor = caller_of(caller).user_name();
    baton_core::board::instance::validate_project_key(&new.key)?;
    let name = new.name.clone().unwrap_or_else(|| new.key.clone());
    let projects = s
        .projects
        .clone()
        .ok_or_else(|| ApiError::not_found("/api/v1/projects"))?;
    let exists = {
        let key = new.key.clone();
        s.instance_readers
            .run(move |api| api.instance().get_project(&key))
            .await
            .is_ok()
    };
    if exists {
        return Err(Error::Conflict {
            code: "project_exists",
            message: format!("project {} already exists", new.key),
            hint: Some("pick another key; `baton project list` shows the taken ones".into()),
        }
        .into());
    }
    // Storage first: a project is registered only once it can be served.
    projects.create_storage(&new.key, &name).await?;
    let key = new.key.clone();
    let info = s
        .instance_writer
        .run(move |api| api.instance().register_project(&actor, &key, &name))
        .await?;
    Ok((StatusCode::CREATED, Json(info)))
}

/// One project (to anyone with a role in it).
#[utoipa::path(get, path = "/api/v1/projects/{key}", tag = "projects",
    params(("key" = String, Path, description = "the project's key")),
    responses((status = 200, body = ProjectInfo), (status = 404, body = ErrorBody)))]
async fn get_project(
    State(s): State<AppState>,
    caller: Option<Extension<Caller>>,
    Path(key): Path<String>,
) -> ApiResult<Json<ProjectInfo>> {
    let caller = caller_of(caller);
    let wanted = key.clone();
    let info = s
        .instance_readers
        .run(move |api| api.instance().get_project(&wanted))
        .await?;
    if role_in(&s, &caller, &key).await?.is_none() {
        return Err(Error::NotFound {
            what: "project",
            name: key,
            hint: Some("list the projects you can use with `baton project list`".into()),
        }
        .into());
    }
    Ok(Json(info))
}

/// Who has which role in a project (to anyone with a role in it).
#[utoipa::path(get, path = "/api/v1/projects/{key}/members", tag = "projects",
    params(("key" = String, Path, description = "the project's key")),
    responses((status = 200, body = Vec<Member>), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn list_members(
    State(s): State<AppState>,
    caller: Option<Extension<Caller>>,
    Path(key): Path<String>,
) -> ApiResult<Json<Vec<Member>>> {
    require_in(&s, &caller_of(caller), &key, Action::Read).await?;
    Ok(Json(
        s.instance_readers
            .run(move |api| api.instance().members(&key))
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct MemberRole {
    role: Role,
}

/// Give a user a role in a project (maintainers of the project; never above their own).
#[utoipa::path(put, path = "/api/v1/projects/{key}/members/{user}", tag = "projects",
    request_body = MemberRole,
    params(("key" = String, Path, description = "the project's key"),
        ("user" = String, Path, description = "the user's name")),
    responses((status = 200, body = Vec<Member>), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn set_member(
    State(s): State<AppState>,
    caller: Option<Extension<Caller>>,
    Path((key, user)): Path<(String, String)>,
    Body(body): Body<MemberRole>,
) -> ApiResult<Json<Vec<Member>>> {
    let caller = caller_of(caller);
    let own = role_in(&s, &caller, &key).await?;
    auth::require(own, Action::ManageProject, &key)?;
    if own.is_some_and(|r| r < body.role) {
        return Err(Error::Forbidden {
            message: format!(
                "you cannot give a role above your own ({})",
                own.map(|r| r.to_string()).unwrap_or_default()
            ),
            hint: Some("ask an admin".into()),
        }
        .into());
    }
    let actor = caller.user_name();
    let members = s
        .instance_writer
        .run(move |api| {
            api.instance()
                .set_member(&actor, &key, &user, Some(body.role))
        })
        .await?;
    s.auth.forget();
    Ok(Json(members))
}

/// Take a user's role in a project away (maintainers of the project).
#[utoipa::path(delete, path = "/api/v1/projects/{key}/members/{user}", tag = "projects",
    params(("key" = String, Path, description = "the project's key"),
        ("user" = String, Path, description = "the user's name")),
    responses((status = 200, body = Vec<Member>), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn remove_member(
    State(s): State<AppState>,
    caller: Option<Extension<Caller>>,
    Path((key, user)): Path<(String, String)>,
) -> ApiResult<Json<Vec<Member>>> {
    let caller = caller_of(caller);
    require_in(&s, &caller, &key, Action::ManageProject).await?;
    let actor = caller.user_name();
    let members = s
        .instance_writer
        .run(move |api| api.instance().set_member(&actor, &key, &user, None))
        .await?;
    s.auth.forget();
    Ok(Json(members))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct TokensQuery {
    /// The project whose tokens to list (maintainers of it); left out: every token
    /// (admins only).
    project: Option<String>,
}

/// API tokens, without their secrets.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", params(TokensQuery),
    responses((status = 200, body = Vec<ApiToken>), (status = 403, body = ErrorBody)))]
async fn list_tokens(
    State(s): State<AppState>,
    caller: Option<Extension<Caller>>,
    Query(q): Query<TokensQuery>,
) -> ApiResult<Json<Vec<ApiToken>>> {
    let caller = caller_of(caller);
    match &q.project {
        Some(p) => require_in(&s, &caller, p, Action::ManageProject).await?,
        None if caller.is_admin() => {}
        None => return Err(admin_only("listing every token")),
    }
    Ok(Json(
        s.instance_readers
            .run(move |api| api.instance().list_tokens(q.project.as_deref()))
            .await?,
    ))
}

fn admin_only(what: &str) -> ApiError {
    Error::Forbidden {
        message: format!("{what} is for admins"),
        hint: Some("name a project you maintain: ?project=KEY".into()),
    }
    .into()
}

/// Create an API token (maintainers of its project; a token for every project: admins).
/// The answer holds the token itself, the only time it is shown; the server keeps a hash.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_token(
    State(s): State<AppState>,
    caller: Option<Extension<Caller>>,
    Body(new): Body<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let caller = caller_of(caller);
    match &new.project {
        Some(p) => require_in(&s, &caller, p, Action::ManageProject).await?,
        None if caller.is_admin() => {}
        None => return Err(admin_only("a token for every project")),
    }
    if matches!(caller, Caller::Local) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_team_mode",
            "this server runs in local mode: tokens need an account",
        )
        .with_hint("create the first admin with `baton user add NAME --admin`"));
    }
    let actor = caller.user_name();
    let made = s
        .instance_writer
        .run(move |api| api.instance().create_token(&actor, new))
        .await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// Revoke a token (its maker, maintainers of its project, admins). Requests carrying it
/// are refused from now on.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    params(("id" = u64, Path, description = "the token's id")),
    responses((status = 200, body = ApiToken), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn revoke_token(
    State(s): State<AppState>,
    caller: Option<Extension<Caller>>,
    Path(id): Path<u64>,
) -> ApiResult<Json<ApiToken>> {
    let caller = caller_of(caller);
    let token = s
        .instance_readers
        .run(move |api| api.instance().get_token(id))
        .await?;
    let own = token.user == caller.user_name();
    if !own && !caller.is_admin() {
        match &token.project {
            Some(p) => require_in(&s, &caller, p, Action::ManageProject).await?,
            None => return Err(admin_only("revoking a token for every project")),
        }
    }
    let actor = caller.user_name();
    let revoked = s
        .instance_writer
        .run(move |api| api.instance().revoke_token(&actor, id))
        .await?;
    s.auth.forget();
    Ok(Json(revoked))
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SettingValue {
    value: Option<String>,
}

/// An instance setting (admins only): `open_registration`.
#[utoipa::path(get, path = "/api/v1/instance/settings/{key}", tag = "users",
    params(("key" = String, Path, description = "the setting")),
    responses((status = 200, body = SettingValue), (status = 422, body = ErrorBody)))]
async fn get_instance_setting(
    State(s): State<AppState>,
    Path(key): Path<String>,
) -> ApiResult<Json<SettingValue>> {
    if !settings::ALL_PUBLIC.contains(&key.as_str()) {
        return Err(Error::invalid_with_hint(
            format!("unknown instance setting {key:?}"),
            format!("settings: {}", settings::ALL_PUBLIC.join(", ")),
        )
        .into());
    }
    let value = s
        .instance_readers
        .run(move |api| api.instance().instance_setting(&key))
        .await?;
    Ok(Json(SettingValue { value }))
}

/// Change an instance setting (admins only).
#[utoipa::path(put, path = "/api/v1/instance/settings/{key}", tag = "users",
    request_body = SettingValue,
    params(("key" = String, Path, description = "the setting")),
    responses((status = 200, body = SettingValue), (status = 422, body = ErrorBody)))]
async fn set_instance_setting(
    State(s): State<AppState>,
    caller: Option<Extension<Caller>>,
    Path(key): Path<String>,
    Body(body): Body<SettingValue>,
) -> ApiResult<Json<SettingValue>> {
    if key == settings::SESSION_KEY {
        return Err(Error::invalid("the session key is not a setting").into());
    }
    let actor = caller_of(caller).user_name();
    let value = body.value.clone().unwrap_or_default();
    s.instance_writer
        .run(move |api| api.instance().set_instance_setting(&actor, &key, &value))
        .await?;
    Ok(Json(body))
}

#[derive(Serialize, ToSchema)]
struct ResourceMetadata {
    resource: String,
    authorization_servers: Vec<String>,
    bearer_methods_supported: Vec<String>,
    resource_name: String,
}

/// OAuth 2.0 protected-resource metadata (RFC 9728): how to present a token here.
#[utoipa::path(get, path = "/.well-known/oauth-protected-resource", tag = "auth",
    responses((status = 200, body = ResourceMetadata)))]
async fn protected_resource(headers: HeaderMap) -> Json<ResourceMetadata> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    Json(ResourceMetadata {
        resource: format!("http://{host}"),
        authorization_servers: Vec::new(),
        bearer_methods_supported: vec!["header".into()],
        resource_name: "Baton".into(),
    })
}
