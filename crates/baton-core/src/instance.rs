//! The instance: what one server holds across projects in team mode. Users and their
//! login sessions, API tokens, the projects the server hosts and who has which role in
//! each. It lives in the default project's store (the instance store); [`Instance`] is its
//! API, implemented in process by [`crate::Board`] and over HTTP by the client.

use serde::{Deserialize, Serialize};

use crate::auth::Role;
use crate::error::Result;
use crate::time::Timestamp;

/// The key of the project every server has: the one its existing routes serve.
pub const DEFAULT_PROJECT: &str = "default";

/// Failed logins allowed per account and per address before each further attempt waits
/// (1 s, then twice as long each time, at most [`MAX_LOGIN_WAIT`]); counted in the store,
/// so by every server on it.
pub const FREE_LOGIN_FAILURES: u32 = 3;
/// The longest wait between login attempts.
pub const MAX_LOGIN_WAIT: std::time::Duration = std::time::Duration::from_secs(300);

/// How long a login session lasts.
pub const SESSION_HOURS: i64 = 24;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: u64,
    pub name: String,
    pub email: Option<String>,
    /// An instance admin: every role on every project, users and projects.
    pub admin: bool,
    /// A disabled user cannot log in; their sessions and tokens are refused.
    pub disabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    pub password: String,
    #[serde(default)]
    pub admin: bool,
}

/// A change to a user. Fields left out stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub admin: Option<bool>,
    #[serde(default)]
    pub disabled: Option<bool>,
    /// A new password (an admin resetting it; users change their own with the current one).
    #[serde(default)]
    pub password: Option<String>,
}

/// A login session: valid until it expires or is revoked (logout, password change,
/// disabled user).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginSession {
    /// Random; only ever sent inside a signed token.
    #[serde(skip_serializing)]
    pub id: String,
    pub user: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// An API token, without its secret (shown once, when created).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiToken {
    pub id: u64,
    /// The first characters of the token (`baton_1a2b3c`), to tell tokens apart.
    pub prefix: String,
    pub name: Option<String>,
    /// Who created it; it never has more rights than they have.
    pub user: String,
    /// The one project it works on; none = every project its user may use.
    pub project: Option<String>,
    /// The agent it acts as, fixed; none = the agent a request names, or its user.
    pub agent: Option<String>,
    pub role: Role,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub agent: Option<String>,
    pub role: Role,
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
}

/// A token just made: the only time its secret is seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    #[serde(flatten)]
    pub info: ApiToken,
    pub token: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectInfo {
    pub key: String,
    pub name: String,
    pub created_by: String,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Member {
    pub project: String,
    pub user: String,
    pub role: Role,
}

/// Who a credential belongs to, and what it may do in the project it was checked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Principal {
    pub user: User,
    /// The token used, if it was one (else a login session).
    pub token: Option<ApiToken>,
    /// The project the role below is for.
    pub project: String,
    /// The role in that project; none = no access.
    pub role: Option<Role>,
}

impl Principal {
    /// The agent this credential must act as, if it is bound to one.
    pub fn bound_agent(&self) -> Option<&str> {
        self.token.as_ref().and_then(|t| t.agent.as_deref())
    }

    /// Whether this credential may administer the instance (users, projects).
    pub fn instance_admin(&self) -> bool {
        self.user.admin
            && self
                .token
                .as_ref()
                .is_none_or(|t| t.project.is_none() && t.role == Role::Admin)
    }
}

/// The role a user has in `project` through a credential: an admin has every role; a
/// member has theirs; a token never has more than its own role or its user's, and none
/// outside the project it is bound to.
pub fn effective_role(
    user: &User,
    member: Option<Role>,
    token: Option<&ApiToken>,
    project: &str,
) -> Option<Role> {
    if user.disabled {
        return None;
    }
    let base = if user.admin {
        Some(Role::Admin)
    } else {
        member
    }?;
    match token {
        None => Some(base),
        Some(t) if t.project.as_deref().is_some_and(|p| p != project) => None,
        Some(t) => Some(base.min(t.role)),
    }
}

/// Instance settings an admin may change.
pub mod settings {
    /// `true` lets anyone create an account (`POST /api/v1/auth/register`); off by default.
    pub const OPEN_REGISTRATION: &str = "open_registration";
    /// The key sessions are signed with, made on first use unless `BATON_JWT_SECRET` is set.
    /// Never listed, never sent.
    pub const SESSION_KEY: &str = "session_key";
    pub const ALL_PUBLIC: [&str; 1] = [OPEN_REGISTRATION];
}

/// The instance's API.
pub trait Instance {
    fn user_count(&self) -> Result<u64>;
    fn add_user(&self, actor: &str, new: NewUser) -> Result<User>;
    fn get_user(&self, name: &str) -> Result<User>;
    fn list_users(&self) -> Result<Vec<User>>;
    /// Changes a user; disabling one or changing a password ends their sessions.
    fn update_user(&self, actor: &str, name: &str, patch: UserPatch) -> Result<User>;
    /// A user changing their own password, proving the current one.
    fn change_password(&self, name: &str, current: &str, new: &str) -> Result<()>;
    /// Checks a name and password and starts a session; records the attempt either way.
    fn login(&self, name: &str, password: &str, address: &str) -> Result<(User, LoginSession)>;
    fn logout(&self, session: &str) -> Result<()>;
    /// The principal of a login session, for `project`; refuses an unknown, revoked or
    /// expired session, or a disabled user.
    fn session_principal(&self, session: &str, project: &str) -> Result<Principal>;
    /// The principal of an API token, for `project`; refuses an unknown, revoked or
    /// expired token, or a disabled user.
    fn token_principal(&self, token: &str, project: &str) -> Result<Principal>;
    /// Notes that a token was used (callers throttle this).
    fn token_used(&self, id: u64) -> Result<()>;
    fn create_token(&self, actor: &str, new: NewToken) -> Result<CreatedToken>;
    fn list_tokens(&self, project: Option<&str>) -> Result<Vec<ApiToken>>;
    fn get_token(&self, id: u64) -> Result<ApiToken>;
    fn revoke_token(&self, actor: &str, id: u64) -> Result<ApiToken>;
    fn register_project(&self, actor: &str, key: &str, name: &str) -> Result<ProjectInfo>;
    /// Every project, the default one first.
    fn list_projects(&self) -> Result<Vec<ProjectInfo>>;
    fn get_project(&self, key: &str) -> Result<ProjectInfo>;
    /// Gives `user` a role in `project`, or takes it away (`None`).
    fn set_member(
        &self,
        actor: &str,
        project: &str,
        user: &str,
        role: Option<Role>,
    ) -> Result<Vec<Member>>;
    fn members(&self, project: &str) -> Result<Vec<Member>>;
    /// The projects a user has a role in, with it.
    fn memberships(&self, user: &str) -> Result<Vec<Member>>;
    fn instance_setting(&self, key: &str) -> Result<Option<String>>;
    fn set_instance_setting(&self, actor: &str, key: &str, value: &str) -> Result<()>;
    /// The key login sessions are signed with, made (once, whoever asks first) when there is
    /// none. Only a server holding the store answers this.
    fn session_key(&self) -> Result<String>;
}
