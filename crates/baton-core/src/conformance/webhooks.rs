//! Scenarios for webhooks (issue 22), run on every `Api`: the rules of configuring them
//! and which events reach which webhook. Sending is the server's, tested end to end.

use super::{add, task};
use crate::api::*;
use crate::model::actions;
use crate::store::EventQuery;
use crate::{Api, WebhookId};

const SECRET: &str = "0123456789abcdef-given-secret";

fn hook(url: &str, events: &[&str], secret: Option<&str>) -> NewWebhook {
    NewWebhook {
        url: url.into(),
        events: events.iter().map(|e| e.to_string()).collect(),
        secret: secret.map(str::to_string),
    }
}

fn actions_for(api: &dyn Api, webhook: WebhookId) -> Vec<String> {
    let mut actions: Vec<String> = api
        .webhooks()
        .deliveries(&DeliveryQuery {
            webhook: Some(webhook),
            ..DeliveryQuery::default()
        })
        .unwrap()
        .into_iter()
        .map(|d| d.action)
        .collect();
    actions.sort();
    actions
}

/// Bad URLs, patterns and secrets are refused with a way out; a webhook hears the events it
/// selects (exact actions and prefixes, as the event log filters them) from its creation
/// on, each once; a ping reaches the tested webhook alone; removal stops it; secrets are
/// never answered back, but a generated one is shown once.
pub fn webhooks_follow_the_events_they_select_and_keep_their_secrets(api: &dyn Api) {
    let hooks = api.webhooks();
    for (url, words) in [
        ("ftp://example.com/hook", "http or https, not ftp"),
        ("example.com/hook", "not a URL"),
        ("https://", "names no host"),
        ("https://exa mple.com/", "spaces"),
    ] {
        let e = hooks
            .add_webhook("lead", hook(url, &["task.done"], None))
            .unwrap_err();
        assert_eq!(e.code(), "invalid_input", "{url}");
        assert!(e.to_string().contains(words), "{url}: {e}");
        assert!(e.hint().is_some(), "{url}");
    }
    let e = hooks
        .add_webhook("lead", hook("https://x.example/h", &["Task Done"], None))
        .unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    let e = hooks
        .add_webhook("lead", hook("https://x.example/h", &[], None))
        .unwrap_err();
    assert!(e.to_string().contains("needs the events"), "{e}");
    let e = hooks
        .add_webhook(
            "lead",
            hook("https://x.example/h", &["*"], Some("tiny-secret")),
        )
        .unwrap_err();
    assert!(!e.to_string().contains("tiny-secret"), "{e}");
    assert!(
        hooks.list_webhooks().unwrap().is_empty(),
        "nothing was added"
    );

    // Before any webhook: never delivered.
    add(api, task("before any webhook"));

    let generated = hooks
        .add_webhook(
            "lead",
            hook("http://127.0.0.1:9/a", &["task.done,message.*"], None),
        )
        .unwrap();
    let secret = generated
        .secret
        .clone()
        .expect("a generated secret is shown once");
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    let a = generated.webhook;
    assert_eq!(a.events, vec!["task.done", "message.*"]);
    assert_eq!(a.created_by, "lead");
    let given = hooks
        .add_webhook(
            "lead",
            hook(
                "http://127.0.0.1:9/b?token=in-the-query",
                &["task.*", "webhook.*"],
                Some(SECRET),
            ),
        )
        .unwrap();
    assert_eq!(given.secret, None, "a given secret is not answered back");
    let b = given.webhook;

    let listed = hooks.list_webhooks().unwrap();
    assert_eq!(
        listed.iter().map(|w| w.id).collect::<Vec<_>>(),
        vec![a.id, b.id]
    );
    assert_eq!(listed[1].url, "http://127.0.0.1:9/b?token=in-the-query");
    let events = serde_json::to_string(&api.events(&EventQuery::default()).unwrap()).unwrap();
    assert!(
        !events.contains("in-the-query"),
        "events, which every role reads, show URLs without their query: {events}"
    );
    let shown = serde_json::to_string(&listed).unwrap() + &events;
    assert!(
        !shown.contains(SECRET) && !shown.contains(&secret),
        "{shown}"
    );

    let t = add(api, task("hooked"));
    api.pickup(
        "claude",
        &PickupRequest {
            id: Some(t.id),
            ..PickupRequest::default()
        },
    )
    .unwrap();
    api.done("claude", t.id, DoneRequest::default()).unwrap();
    api.ask(
        "claude",
        AskRequest {
            task: None,
            to: "lead".into(),
            body: "which port?".into(),
        },
    )
    .unwrap();
    hooks.queue_deliveries(1_000).unwrap();
    assert_eq!(hooks.queue_deliveries(1_000).unwrap(), 0, "each event once");
    assert_eq!(
        actions_for(api, a.id),
        vec![actions::MESSAGE_ASKED, actions::TASK_DONE]
    );
    assert_eq!(
        actions_for(api, b.id),
        vec![
            actions::TASK_CREATED,
            actions::TASK_DONE,
            actions::TASK_PICKED_UP
        ]
    );

    let ping = hooks.test_webhook("lead", a.id).unwrap();
    assert_eq!(
        (ping.webhook, ping.action.as_str(), ping.attempts),
        (a.id, actions::WEBHOOK_PING, 0)
    );
    hooks.queue_deliveries(1_000).unwrap();
    assert!(
        !actions_for(api, b.id).contains(&actions::WEBHOOK_PING.to_string()),
        "a ping goes to the tested webhook alone"
    );
    let uids: Vec<String> = hooks
        .deliveries(&DeliveryQuery::default())
        .unwrap()
        .into_iter()
        .map(|d| d.uid)
        .collect();
    let mut distinct = uids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), uids.len(), "delivery ids are unique");

    let removed = hooks.remove_webhook("lead", a.id).unwrap();
    assert_eq!(removed.id, a.id);
    assert_eq!(
        hooks
            .list_webhooks()
            .unwrap()
            .iter()
            .map(|w| w.id)
            .collect::<Vec<_>>(),
        vec![b.id]
    );
    let left = hooks
        .deliveries(&DeliveryQuery {
            webhook: Some(a.id),
            status: Some(DeliveryStatus::Pending),
            limit: None,
        })
        .unwrap();
    assert!(
        left.is_empty(),
        "a removed webhook's deliveries fail: {left:?}"
    );
    for e in [
        hooks.remove_webhook("lead", a.id).unwrap_err(),
        hooks.test_webhook("lead", a.id).unwrap_err(),
    ] {
        assert_eq!(e.code(), "webhook_not_found", "{e}");
        assert!(e.hint().unwrap().contains("baton webhook list"), "{e}");
    }
    add(api, task("after the removal"));
    hooks.queue_deliveries(1_000).unwrap();
    assert_eq!(
        actions_for(api, a.id).len(),
        3,
        "nothing new for a removed webhook"
    );
    let recorded: Vec<String> = api
        .events(&EventQuery {
            action: Some("webhook.*".into()),
            ..EventQuery::default()
        })
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        recorded,
        vec![
            actions::WEBHOOK_ADDED,
            actions::WEBHOOK_ADDED,
            actions::WEBHOOK_PING,
            actions::WEBHOOK_REMOVED
        ]
    );
}
