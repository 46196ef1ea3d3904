//! The instance's rules (users, sessions, tokens, projects, roles), on every store. Run with
//! [`crate::instance_conformance_tests!`].

use std::time::Duration;

use super::ApiFixture;
use crate::auth::Role;
use crate::instance::{
    Instance, NewToken, NewUser, UserPatch, DEFAULT_PROJECT, FREE_LOGIN_FAILURES, MAX_LOGIN_WAIT,
};
use crate::store::EventQuery;
use crate::{Api, ErrorClass};

const PASSWORD: &str = "correct horse battery";

fn user(name: &str, admin: bool) -> NewUser {
    NewUser {
        name: name.into(),
        email: Some(format!("{name}@example.com")),
        password: PASSWORD.into(),
        admin,
    }
}

fn token(project: Option<&str>, agent: Option<&str>, role: Role) -> NewToken {
    NewToken {
        name: None,
        project: project.map(String::from),
        agent: agent.map(String::from),
        role,
        expires_at: None,
    }
}

/// Every event's text, to check that no secret got into the log.
fn log_text(api: &dyn Api) -> String {
    serde_json::to_string(&api.events(&EventQuery::default()).expect("events")).unwrap()
}

fn instance(f: &dyn ApiFixture) -> &dyn Instance {
    f.api().instance()
}

pub fn users_are_unique_and_the_first_one_is_an_admin(f: &dyn ApiFixture) {
    let i = instance(f);
    assert_eq!(i.user_count().unwrap(), 0);
    let ann = i.add_user("setup", user("ann", false)).unwrap();
    assert!(ann.admin, "the first user runs the instance");
    let bob = i.add_user("ann", user("bob", false)).unwrap();
    assert!(!bob.admin);
    let e = i.add_user("ann", user("bob", true)).unwrap_err();
    assert_eq!(e.code(), "user_exists");
    for (bad, field) in [
        (
            NewUser {
                password: "short".into(),
                ..user("cy", false)
            },
            "password",
        ),
        (user("human", false), "reserved"),
        (user("a b", false), "name"),
        (
            NewUser {
                email: Some("nope".into()),
                ..user("cy", false)
            },
            "email",
        ),
    ] {
        let e = i.add_user("ann", bad).unwrap_err();
        assert_eq!(e.class(), ErrorClass::Invalid, "{field}: {e}");
    }
    assert_eq!(i.user_count().unwrap(), 2);
    let names: Vec<_> = i
        .list_users()
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["ann", "bob"]);
    assert_eq!(i.get_user("zed").unwrap_err().code(), "user_not_found");
    // The last admin cannot lose the role.
    let e = i
        .update_user(
            "ann",
            "ann",
            UserPatch {
                admin: Some(false),
                ..UserPatch::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "last_admin");
    assert!(!log_text(f.api()).contains(PASSWORD));
}

pub fn a_login_starts_a_session_that_logout_and_time_end(f: &dyn ApiFixture) {
    let i = instance(f);
    i.add_user("setup", user("ann", true)).unwrap();
    let e = i.login("ann", "wrong password!", "10.0.0.1").unwrap_err();
    assert_eq!(e.class(), ErrorClass::Unauthenticated);
    let unknown = i.login("nobody", PASSWORD, "10.0.0.1").unwrap_err();
    assert_eq!(
        unknown.to_string(),
        e.to_string(),
        "no hint whether the user exists"
    );
    let (who, session) = i.login("ann", PASSWORD, "10.0.0.1").unwrap();
    assert_eq!(who.name, "ann");
    let p = i.session_principal(&session.id, DEFAULT_PROJECT).unwrap();
    assert_eq!((p.user.name.as_str(), p.role), ("ann", Some(Role::Admin)));
    i.logout(&session.id).unwrap();
    let e = i
        .session_principal(&session.id, DEFAULT_PROJECT)
        .unwrap_err();
    assert_eq!(e.class(), ErrorClass::Unauthenticated);
    // A session lasts a day.
    let (_, session) = i.login("ann", PASSWORD, "10.0.0.1").unwrap();
    f.advance(Duration::from_secs(23 * 3600));
    assert!(i.session_principal(&session.id, DEFAULT_PROJECT).is_ok());
    f.advance(Duration::from_secs(3600));
    let e = i
        .session_principal(&session.id, DEFAULT_PROJECT)
        .unwrap_err();
    assert!(e.to_string().contains("expired"), "{e}");
    // Changing the password ends the user's sessions; the old password stops working.
    let (_, session) = i.login("ann", PASSWORD, "10.0.0.1").unwrap();
    let e = i
        .change_password("ann", "not it at all", "another one here")
        .unwrap_err();
    assert_eq!(e.class(), ErrorClass::Forbidden);
    i.change_password("ann", PASSWORD, "another one here")
        .unwrap();
    assert!(i.session_principal(&session.id, DEFAULT_PROJECT).is_err());
    assert!(i.login("ann", PASSWORD, "10.0.0.1").is_err());
    i.login("ann", "another one here", "10.0.0.1").unwrap();
    let actions: Vec<_> = f
        .api()
        .events(&EventQuery {
            action: Some("auth.".into()),
            ..EventQuery::default()
        })
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "auth.login_failed",
            "auth.login_failed",
            "auth.login",
            "auth.logout",
            "auth.login",
            "auth.login",
            "auth.login_failed",
            "auth.login"
        ]
    );
    let log = log_text(f.api());
    assert!(!log.contains(PASSWORD) && !log.contains("another one here"));
    assert!(
        !log.contains(&session.id),
        "session ids stay out of the log"
    );
}

pub fn a_token_is_shown_once_and_refused_once_revoked_or_expired(f: &dyn ApiFixture) {
    let i = instance(f);
    i.add_user("setup", user("ann", true)).unwrap();
    i.register_project("ann", "web", "Web shop").unwrap();
    let made = i
        .create_token("ann", token(Some("web"), Some("claude"), Role::Agent))
        .unwrap();
    assert!(made.token.starts_with("baton_") && made.token.len() >= 6 + 64);
    assert!(made.token.starts_with(&made.info.prefix));
    let p = i.token_principal(&made.token, "web").unwrap();
    assert_eq!(p.role, Some(Role::Agent));
    assert_eq!(p.bound_agent(), Some("claude"));
    assert!(!p.instance_admin());
    // Bound to web: nothing in another project.
    assert_eq!(
        i.token_principal(&made.token, DEFAULT_PROJECT)
            .unwrap()
            .role,
        None
    );
    let e = i.token_principal("baton_0000", "web").unwrap_err();
    assert_eq!(e.class(), ErrorClass::Unauthenticated);
    // Listing never shows the secret.
    let listed = serde_json::to_string(&i.list_tokens(Some("web")).unwrap()).unwrap();
    assert!(listed.contains(&made.info.prefix) && !listed.contains(&made.token));
    i.revoke_token("ann", made.info.id).unwrap();
    let e = i.token_principal(&made.token, "web").unwrap_err();
    assert!(e.to_string().contains("revoked"), "{e}");
    // Expiry.
    let now = crate::time::Timestamp::now();
    let short = i
        .create_token(
            "ann",
            NewToken {
                expires_at: Some(now.plus(Duration::from_secs(3600))),
                ..token(Some("web"), None, Role::Viewer)
            },
        )
        .unwrap();
    assert!(i.token_principal(&short.token, "web").is_ok());
    f.advance(Duration::from_secs(2 * 3600));
    let e = i.token_principal(&short.token, "web").unwrap_err();
    assert!(e.to_string().contains("expired"), "{e}");
    i.token_used(short.info.id).unwrap();
    assert!(i.get_token(short.info.id).unwrap().last_used_at.is_some());
    assert_eq!(i.get_token(999).unwrap_err().code(), "token_not_found");
    let log = log_text(f.api());
    assert!(!log.contains(&made.token) && !log.contains(&short.token));
    assert!(log.contains("token.created") && log.contains("token.revoked"));
}

pub fn roles_come_from_membership_and_tokens_never_exceed_them(f: &dyn ApiFixture) {
    let i = instance(f);
    i.add_user("setup", user("ann", true)).unwrap();
    i.add_user("ann", user("max", false)).unwrap();
    i.register_project("ann", "web", "Web").unwrap();
    assert_eq!(
        i.register_project("ann", "web", "Again")
            .unwrap_err()
            .code(),
        "project_exists"
    );
    assert_eq!(
        i.register_project("ann", "Bad Key", "x")
            .unwrap_err()
            .class(),
        ErrorClass::Invalid
    );
    let keys: Vec<_> = i
        .list_projects()
        .unwrap()
        .into_iter()
        .map(|p| p.key)
        .collect();
    assert_eq!(keys, [DEFAULT_PROJECT, "web"]);
    assert_eq!(
        i.get_project("nope").unwrap_err().code(),
        "project_not_found"
    );

    // No role anywhere until given one.
    let (_, s) = i.login("max", PASSWORD, "a").unwrap();
    assert_eq!(i.session_principal(&s.id, "web").unwrap().role, None);
    i.set_member("ann", "web", "max", Some(Role::Maintainer))
        .unwrap();
    assert_eq!(
        i.session_principal(&s.id, "web").unwrap().role,
        Some(Role::Maintainer)
    );
    assert_eq!(
        i.session_principal(&s.id, DEFAULT_PROJECT).unwrap().role,
        None
    );
    assert_eq!(i.memberships("max").unwrap().len(), 1);

    // A maintainer makes tokens up to their own role, for their project only.
    let e = i
        .create_token("max", token(Some("web"), None, Role::Admin))
        .unwrap_err();
    assert_eq!(e.class(), ErrorClass::Forbidden);
    assert!(i
        .create_token("max", token(None, None, Role::Viewer))
        .is_err());
    assert!(i
        .create_token("max", token(Some(DEFAULT_PROJECT), None, Role::Viewer))
        .is_err());
    let t = i
        .create_token("max", token(Some("web"), None, Role::Reviewer))
        .unwrap();
    assert_eq!(
        i.token_principal(&t.token, "web").unwrap().role,
        Some(Role::Reviewer)
    );
    // Taking the user's role away takes the token's too; so does disabling the user.
    i.set_member("ann", "web", "max", Some(Role::Viewer))
        .unwrap();
    assert_eq!(
        i.token_principal(&t.token, "web").unwrap().role,
        Some(Role::Viewer)
    );
    i.update_user(
        "ann",
        "max",
        UserPatch {
            disabled: Some(true),
            ..UserPatch::default()
        },
    )
    .unwrap();
    assert_eq!(
        i.token_principal(&t.token, "web").unwrap_err().class(),
        ErrorClass::Unauthenticated
    );
    assert!(i.session_principal(&s.id, "web").is_err());
    let e = i.login("max", PASSWORD, "a").unwrap_err();
    assert!(e.to_string().contains("disabled"), "{e}");
    i.set_member("ann", "web", "max", None).unwrap();
    assert!(i.members("web").unwrap().is_empty());

    // Instance settings: known keys only; the session key never reaches the log.
    assert!(i.set_instance_setting("ann", "colour", "blue").is_err());
    assert!(i
        .set_instance_setting("ann", "open_registration", "maybe")
        .is_err());
    i.set_instance_setting("ann", "open_registration", "true")
        .unwrap();
    i.set_instance_setting("ann", "open_registration", "false")
        .unwrap();
    assert_eq!(
        i.instance_setting("open_registration").unwrap().as_deref(),
        Some("false")
    );
    i.set_instance_setting("ann", "session_key", "0123456789abcdef-secret")
        .unwrap();
    assert!(!log_text(f.api()).contains("0123456789abcdef-secret"));
}

pub fn failed_logins_make_the_next_attempts_wait_until_one_succeeds(f: &dyn ApiFixture) {
    let i = instance(f);
    i.add_user("setup", user("ann", true)).unwrap();
    i.add_user("setup", user("bob", false)).unwrap();
    let refused = |name: &str, password: &str, address: &str| {
        i.login(name, password, address).unwrap_err().class()
    };
    for _ in 0..=FREE_LOGIN_FAILURES {
        assert_eq!(
            refused("Ann", "wrong password!", "10.0.0.1"),
            ErrorClass::Unauthenticated
        );
    }
    // Past the free failures the account waits, even with the right password from
    // elsewhere, and so does the address, for anyone; nobody else does.
    let e = i.login("ann", PASSWORD, "10.0.0.2").unwrap_err();
    assert_eq!(e.class(), ErrorClass::RateLimited);
    assert_eq!(e.code(), "rate_limited");
    assert!(
        e.hint().unwrap_or_default().contains("1 s"),
        "{:?}",
        e.hint()
    );
    assert_eq!(
        refused("bob", PASSWORD, "10.0.0.1"),
        ErrorClass::RateLimited
    );
    i.login("bob", PASSWORD, "10.0.0.3").unwrap();
    // Each further failure doubles the wait.
    f.advance(Duration::from_secs(1));
    assert_eq!(
        refused("ann", "wrong password!", "10.0.0.2"),
        ErrorClass::Unauthenticated
    );
    f.advance(Duration::from_secs(1));
    assert_eq!(
        refused("ann", PASSWORD, "10.0.0.2"),
        ErrorClass::RateLimited
    );
    f.advance(Duration::from_secs(1));
    // A success forgets the account's and the address's failures.
    i.login("ann", PASSWORD, "10.0.0.2").unwrap();
    assert_eq!(
        refused("ann", "wrong password!", "10.0.0.2"),
        ErrorClass::Unauthenticated
    );
    i.login("ann", PASSWORD, "10.0.0.2").unwrap();
    // However many failures, the wait stays bounded; a day later they are forgotten.
    for _ in 0..40 {
        f.advance(MAX_LOGIN_WAIT);
        assert_eq!(
            refused("bob", "wrong password!", "10.0.0.4"),
            ErrorClass::Unauthenticated
        );
    }
    f.advance(MAX_LOGIN_WAIT - Duration::from_secs(1));
    assert_eq!(
        refused("bob", PASSWORD, "10.0.0.5"),
        ErrorClass::RateLimited
    );
    f.advance(Duration::from_secs(24 * 3600));
    assert_eq!(
        refused("bob", "wrong password!", "10.0.0.4"),
        ErrorClass::Unauthenticated
    );
    i.login("bob", PASSWORD, "10.0.0.5").unwrap();
}

/// Declares one `#[test]` per instance scenario; `$factory` gives a fresh fixture.
#[macro_export]
macro_rules! instance_conformance_tests {
    ($factory:expr) => {
        $crate::conformance_tests!(@fixture $factory;
            users_are_unique_and_the_first_one_is_an_admin,
            a_login_starts_a_session_that_logout_and_time_end,
            failed_logins_make_the_next_attempts_wait_until_one_succeeds,
            a_token_is_shown_once_and_refused_once_revoked_or_expired,
            roles_come_from_membership_and_tokens_never_exceed_them,
        );
    };
}
