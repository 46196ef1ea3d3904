//! [`Instance`] over HTTP: users, sessions, tokens, projects and members on a team server.

use baton_core::auth::Role;
use baton_core::instance::{
    ApiToken, CreatedToken, Instance, LoginSession, Member, NewToken, NewUser, Principal,
    ProjectInfo, User, UserPatch,
};
use baton_core::{Error, Result};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{segment, Client, Method};

#[derive(Deserialize)]
struct LoginAnswer {
    token: String,
    expires_at: baton_core::time::Timestamp,
    user: User,
}

#[derive(Deserialize)]
struct Setting {
    value: Option<String>,
}

fn server_side(what: &str) -> Error {
    Error::invalid_with_hint(
        format!("{what} is answered by the server itself, not over HTTP"),
        "run this on the server's machine, against its store",
    )
}

impl Client {
    /// The same client with another credential.
    pub fn with_token(&self, token: Option<String>) -> Client {
        Client {
            http: self.http.clone(),
            base: self.base.clone(),
            token,
            project: self.project.clone(),
        }
    }

    /// `GET /api/v1/whoami` (of the client's project): who the credential is there.
    pub fn whoami(&self) -> Result<Value> {
        self.get("/api/v1/whoami", &[])
    }

    /// `GET /api/v1/auth/status`: local or team mode, registration, setup.
    pub fn auth_status(&self) -> Result<Value> {
        self.get("/api/v1/auth/status", &[])
    }

    /// Creates a project (admins): its own storage on the server.
    pub fn create_project(&self, key: &str, name: Option<&str>) -> Result<ProjectInfo> {
        self.post("/api/v1/projects", None, &json!({"key": key, "name": name}))
    }
}

impl Instance for Client {
    fn user_count(&self) -> Result<u64> {
        Ok(self.list_users()?.len() as u64)
    }

    fn add_user(&self, _actor: &str, new: NewUser) -> Result<User> {
        self.post("/api/v1/users", None, &new)
    }

    fn get_user(&self, name: &str) -> Result<User> {
        self.get(&format!("/api/v1/users/{}", segment(name)), &[])
    }

    fn list_users(&self) -> Result<Vec<User>> {
        self.get("/api/v1/users", &[])
    }

    fn update_user(&self, _actor: &str, name: &str, patch: UserPatch) -> Result<User> {
        self.call(
            Method::Patch,
            &format!("/api/v1/users/{}", segment(name)),
            None,
            &[],
            Some(&patch),
        )
    }

    fn change_password(&self, _name: &str, current: &str, new: &str) -> Result<()> {
        self.call(
            Method::Put,
            "/api/v1/profile/password",
            None,
            &[],
            Some(&json!({"current": current, "new": new})),
        )
    }

    /// Logs in; the session's `id` is the signed token to send as the bearer credential.
    fn login(&self, name: &str, password: &str, _address: &str) -> Result<(User, LoginSession)> {
        let answer: LoginAnswer = self.post(
            "/api/v1/auth/login",
            None,
            &json!({"name": name, "password": password}),
        )?;
        let session = LoginSession {
            id: answer.token,
            user: answer.user.name.clone(),
            created_at: baton_core::time::Timestamp::now(),
            expires_at: answer.expires_at,
        };
        Ok((answer.user, session))
    }

    fn logout(&self, session: &str) -> Result<()> {
        self.with_token(Some(session.to_string())).call::<(), ()>(
            Method::Post,
            "/api/v1/auth/logout",
            None,
            &[],
            None,
        )
    }

    fn session_principal(&self, _session: &str, _project: &str) -> Result<Principal> {
        Err(server_side("checking a session"))
    }

    fn token_principal(&self, _token: &str, _project: &str) -> Result<Principal> {
        Err(server_side("checking a token"))
    }

    fn token_used(&self, _id: u64) -> Result<()> {
        Err(server_side("marking a token used"))
    }

    fn create_token(&self, _actor: &str, new: NewToken) -> Result<CreatedToken> {
        self.post("/api/v1/tokens", None, &new)
    }

    fn list_tokens(&self, project: Option<&str>) -> Result<Vec<ApiToken>> {
        let query: Vec<(&str, String)> = project
            .map(|p| ("project", p.to_string()))
            .into_iter()
            .collect();
        self.get("/api/v1/tokens", &query)
    }

    fn get_token(&self, id: u64) -> Result<ApiToken> {
        self.list_tokens(None)?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or_else(|| Error::NotFound {
                what: "token",
                name: id.to_string(),
                hint: Some("list tokens with `baton token list`".into()),
            })
    }

    fn revoke_token(&self, _actor: &str, id: u64) -> Result<ApiToken> {
        self.call::<(), ApiToken>(
            Method::Delete,
            &format!("/api/v1/tokens/{id}"),
            None,
            &[],
            None,
        )
    }

    fn register_project(&self, _actor: &str, key: &str, name: &str) -> Result<ProjectInfo> {
        self.create_project(key, Some(name))
    }

    fn list_projects(&self) -> Result<Vec<ProjectInfo>> {
        self.get("/api/v1/projects", &[])
    }

    fn get_project(&self, key: &str) -> Result<ProjectInfo> {
        self.get(&format!("/api/v1/projects/{}", segment(key)), &[])
    }

    fn set_member(
        &self,
        _actor: &str,
        project: &str,
        user: &str,
        role: Option<Role>,
    ) -> Result<Vec<Member>> {
        let path = format!(
            "/api/v1/projects/{}/members/{}",
            segment(project),
            segment(user)
        );
        match role {
            Some(role) => self.call(Method::Put, &path, None, &[], Some(&json!({"role": role}))),
            None => self.call::<(), _>(Method::Delete, &path, None, &[], None),
        }
    }

    fn members(&self, project: &str) -> Result<Vec<Member>> {
        self.get(
            &format!("/api/v1/projects/{}/members", segment(project)),
            &[],
        )
    }

    fn memberships(&self, _user: &str) -> Result<Vec<Member>> {
        let profile: Value = self.get("/api/v1/profile/me", &[])?;
        serde_json::from_value(profile["memberships"].clone())
            .map_err(|e| Error::Internal(format!("an unreadable profile: {e}")))
    }

    fn instance_setting(&self, key: &str) -> Result<Option<String>> {
        let s: Setting = self.get(&format!("/api/v1/instance/settings/{}", segment(key)), &[])?;
        Ok(s.value)
    }

    fn set_instance_setting(&self, _actor: &str, key: &str, value: &str) -> Result<()> {
        let _: Setting = self.call(
            Method::Put,
            &format!("/api/v1/instance/settings/{}", segment(key)),
            None,
            &[],
            Some(&json!({"value": value})),
        )?;
        Ok(())
    }

    fn session_key(&self) -> Result<String> {
        Err(server_side("the session key"))
    }
}
