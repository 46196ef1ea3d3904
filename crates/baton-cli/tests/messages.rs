//! Questions between real processes: one blocks on `ask --wait` or `listen`, another answers.

mod support;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use support::Sandbox;

/// Long enough that a waiter woken by the fallback poll would miss the test's deadlines:
/// these tests pass only if a file event wakes it.
const NO_POLL: &str = "120s";

fn spawn(s: &Sandbox, agent: &str, args: &[&str]) -> Child {
    let mut cmd = s.command(args);
    cmd.env("BATON_AGENT", agent)
        .env("BATON_WAIT_POLL", NO_POLL)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.spawn().expect("spawn baton")
}

/// Waits for the child to exit, at most `limit`.
fn finish_within(mut child: Child, limit: Duration) -> support::Run {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("baton did not return within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    support::finish(child.wait_with_output().unwrap())
}

/// Polls codex's inbox until the question shows up; returns its id.
fn wait_for_question(s: &Sandbox, agent: &str) -> String {
    let start = Instant::now();
    loop {
        let inbox = s.as_agent(agent, &["inbox"]).ok().json();
        if let Some(m) = inbox.as_array().unwrap().first() {
            return m["id"].as_str().unwrap().to_string();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the question never arrived"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn ask_wait_blocks_until_another_process_answers() {
    let s = Sandbox::project();
    s.run(&["task", "add", "--title", "Auth API"]).ok();
    s.as_agent("codex", &["task", "pickup"]).ok();
    let asker = spawn(
        &s,
        "claude",
        &[
            "ask",
            "--to",
            "T-1",
            "Which hash for passwords?",
            "--wait",
            "60",
        ],
    );
    let id = wait_for_question(&s, "codex");
    std::thread::sleep(Duration::from_millis(300));
    let answered = Instant::now();
    s.as_agent("codex", &["answer", &id, "argon2id, see D-1"])
        .ok();
    let r = finish_within(asker, Duration::from_secs(30)).ok();
    assert!(
        answered.elapsed() < Duration::from_secs(20),
        "woken by the write, not by the {NO_POLL} poll"
    );
    let out = r.json();
    assert_eq!(out["question"]["to"], "codex");
    assert_eq!(out["question"]["task"], "T-1");
    assert_eq!(out["answer"]["body"], "argon2id, see D-1");
    assert_eq!(out["answer"]["from"], "codex");
    assert_eq!(out["answer"]["reply_to"], id.as_str());
    // Delivered by the wait: not again in the inbox.
    let inbox = s.as_agent("claude", &["inbox"]).ok().json();
    assert!(inbox.as_array().unwrap().is_empty(), "{inbox}");
    let thread = s.run(&["thread", &id]).ok().json();
    assert_eq!(thread.as_array().unwrap().len(), 2);
    let events = s.run(&["events", "--action", "message."]).ok().json();
    assert_eq!(
        events.as_array().unwrap().len(),
        2,
        "every message is an event"
    );
}

#[test]
fn ask_wait_times_out_with_exit_3_and_the_question_stays_open() {
    let s = Sandbox::project();
    let start = Instant::now();
    let r = s
        .as_agent(
            "claude",
            &["ask", "--to", "codex", "Anyone there?", "--wait", "1s"],
        )
        .fails(3, "no_answer");
    assert!(start.elapsed() >= Duration::from_secs(1));
    assert!(
        r.error()["message"].as_str().unwrap().contains("M-1"),
        "{}",
        r.stderr
    );
    assert!(r.error()["hint"].as_str().unwrap().contains("baton inbox"));
    let inbox = s.as_agent("codex", &["inbox"]).ok().json();
    assert_eq!(inbox[0]["body"], "Anyone there?");
    s.as_agent("claude", &["ask", "--to", "codex", "x", "--wait", "soon"])
        .fails(2, "invalid_input");
}

#[test]
fn listen_wakes_when_a_message_arrives() {
    let s = Sandbox::project();
    let listener = spawn(&s, "codex", &["listen", "--timeout", "60s"]);
    // Let it start and find an empty inbox.
    std::thread::sleep(Duration::from_millis(700));
    let sent = Instant::now();
    s.as_agent("claude", &["ask", "--to", "codex", "Is the schema final?"])
        .ok();
    let r = finish_within(listener, Duration::from_secs(30)).ok();
    assert!(sent.elapsed() < Duration::from_secs(20));
    let got = r.json();
    assert_eq!(got[0]["body"], "Is the schema final?");
    assert_eq!(got[0]["from"], "claude");
    // A pending question is returned at once, until answered.
    let again = s
        .as_agent("codex", &["listen", "--timeout", "5s"])
        .ok()
        .json();
    assert_eq!(again[0]["id"], "M-1");
    s.as_agent("codex", &["answer", "M-1", "yes"]).ok();
    let quiet = Instant::now();
    s.as_agent("codex", &["listen", "--timeout", "1s"])
        .fails(3, "no_message");
    assert!(quiet.elapsed() >= Duration::from_secs(1));
    // The answer reaches the asker once.
    let answer = s
        .as_agent("claude", &["listen", "--timeout", "5s"])
        .ok()
        .json();
    assert_eq!(answer[0]["body"], "yes");
    assert!(s
        .as_agent("claude", &["inbox"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn questions_go_to_any_to_human_and_not_to_a_task_nobody_holds() {
    let s = Sandbox::project();
    s.run(&["task", "add", "--title", "x"]).ok();
    let r = s
        .as_agent("claude", &["ask", "--to", "T-1", "?"])
        .fails(4, "task_not_held");
    assert!(r.error()["hint"].as_str().unwrap().contains("--to any"));
    s.as_agent("claude", &["ask", "--to", "T-9", "?"])
        .fails(3, "task_not_found");
    s.as_agent("claude", &["ask", "--to", "any", "Who owns CI?"])
        .ok();
    s.as_agent("claude", &["ask", "--to", "human", "Ship it?"])
        .ok();
    let human = s.run(&["inbox"]).ok().json();
    assert_eq!(human.as_array().unwrap().len(), 2, "{human}");
    let codex = s.as_agent("codex", &["inbox"]).ok().json();
    assert_eq!(codex.as_array().unwrap().len(), 1);
    assert_eq!(codex[0]["to"], "any");
    s.run(&["answer", "M-2", "yes"]).ok();
    let claude = s.as_agent("claude", &["inbox"]).ok().json();
    assert_eq!(claude[0]["from"], "human");
    let all = s.as_agent("claude", &["inbox", "--all"]).ok().json();
    assert_eq!(all.as_array().unwrap().len(), 1);
    s.as_agent("codex", &["answer", "M-9", "x"])
        .fails(3, "message_not_found");
}

/// `ask --wait` with only `BATON_DATABASE_URL` (no server, no project file): the answer,
/// written by another process, wakes the waiter through LISTEN/NOTIFY, not a poll.
#[test]
fn ask_wait_on_a_database_url_is_woken_by_the_answer() {
    let Some(db) = baton_postgres::testing::TestDatabase::create() else {
        return;
    };
    let s = Sandbox::new();
    let as_agent = |agent: &str, args: &[&str]| {
        let mut cmd = s.command(args);
        cmd.env("BATON_DATABASE_URL", db.url())
            .env("BATON_AGENT", agent);
        support::finish(cmd.output().expect("run baton"))
    };
    as_agent("lead", &["task", "add", "--title", "Auth API"]).ok();
    as_agent("codex", &["task", "pickup"]).ok();
    let mut cmd = s.command(&["ask", "--to", "T-1", "Which hash?", "--wait", "60"]);
    cmd.env("BATON_DATABASE_URL", db.url())
        .env("BATON_AGENT", "claude")
        .env("BATON_WAIT_POLL", NO_POLL)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let asker = cmd.spawn().expect("spawn baton");
    let start = Instant::now();
    let id = loop {
        let inbox = as_agent("codex", &["inbox"]).ok().json();
        if let Some(m) = inbox.as_array().unwrap().first() {
            break m["id"].as_str().unwrap().to_string();
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no question");
        std::thread::sleep(Duration::from_millis(50));
    };
    // The asker is now blocked in its wait (its check found no answer).
    std::thread::sleep(Duration::from_millis(300));
    as_agent("codex", &["answer", &id, "argon2id"]).ok();
    let answered = Instant::now();
    let r = finish_within(asker, Duration::from_secs(30)).ok();
    assert!(
        answered.elapsed() < Duration::from_secs(3),
        "woken by the notification, not by the {NO_POLL} poll: {:?}",
        answered.elapsed()
    );
    let out = r.json();
    assert_eq!(out["answer"]["body"], "argon2id");
    assert_eq!(out["answer"]["reply_to"], id.as_str());
}

/// People read a message whole: `inbox` and `thread` wrap long text to the terminal's
/// width instead of cutting it, and an answered question shows who answered.
#[test]
fn inbox_and_thread_show_the_whole_text_wrapped() {
    let s = Sandbox::project();
    let long = "Should the session cache live in Redis or in the database? The review of \
                T-12 said Redis because of the expiry semantics, but ops said no new \
                services this quarter; what do you want me to do, and by when?";
    s.as_agent("claude", &["ask", "--to", "human", long]).ok();
    let run = |args: &[&str]| {
        let mut cmd = s.command(args);
        cmd.env("COLUMNS", "60").env_remove("BATON_AGENT");
        support::finish(cmd.output().unwrap()).ok().stdout
    };
    let shown = run(&["--human", "inbox"]);
    let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let body: String = shown.lines().skip(1).collect::<Vec<_>>().join(" ");
    assert_eq!(words(&body), words(long), "{shown}");
    assert!(
        shown
            .lines()
            .filter(|l| l.starts_with("    "))
            .all(|l| l.chars().count() <= 60),
        "{shown}"
    );
    assert!(
        shown.lines().next().unwrap().contains("claude -> human"),
        "{shown}"
    );
    assert!(shown.contains("open question"), "{shown}");

    // On a real terminal, whose width the shell does not export: the terminal is asked.
    let tty = std::process::Command::new("script")
        .args(["-qec"])
        .arg(format!(
            "stty rows 24 cols 50; {} --human inbox",
            env!("CARGO_BIN_EXE_baton")
        ))
        .arg("/dev/null")
        .current_dir(s.path())
        .env_remove("COLUMNS")
        .env_remove("BATON_AGENT")
        .env("BATON_AGENT", "human")
        .output()
        .unwrap();
    let on_tty = String::from_utf8_lossy(&tty.stdout).replace('\r', "");
    let wrapped: Vec<&str> = on_tty.lines().filter(|l| l.starts_with("    ")).collect();
    assert!(
        wrapped.len() >= 4 && wrapped.iter().all(|l| l.chars().count() <= 50),
        "{on_tty}"
    );

    s.run(&["answer", "M-1", "Use the database for now."]).ok();
    let thread = run(&["--human", "thread", "M-1"]);
    assert!(thread.contains("answered by human"), "{thread}");
    assert!(thread.contains("Use the database for now."), "{thread}");
}

/// A question to a name nobody has used is kept, with a warning that lists the names seen;
/// `human` and agents that have acted get none.
#[test]
fn a_message_to_an_unknown_name_warns_and_lists_the_known_ones() {
    let s = Sandbox::project();
    s.as_agent("codex", &["task", "add", "--title", "seen"])
        .ok();
    let typo = s
        .as_agent("claude", &["ask", "--to", "codx", "ready?"])
        .ok();
    let asked = typo.json();
    assert_eq!(asked["to"], "codx", "the message is kept");
    assert_eq!(
        typo.stdout.matches("\"warning\"").count(),
        1,
        "one warning key: {}",
        typo.stdout
    );
    let warning = asked["warning"].as_str().unwrap_or_default();
    assert!(
        warning.contains("nobody named 'codx'") && warning.contains("codex"),
        "{asked}"
    );
    assert!(
        typo.stderr.is_empty(),
        "stderr holds errors only: {}",
        typo.stderr
    );
    let people = s
        .as_agent("claude", &["--human", "ask", "--to", "codx", "again?"])
        .ok();
    assert!(
        people.stderr.contains("warning: nobody named 'codx'"),
        "{}",
        people.stderr
    );
    for to in ["codex", "human"] {
        let fine = s.as_agent("claude", &["ask", "--to", to, "ready?"]).ok();
        assert!(
            fine.json().get("warning").is_none(),
            "{to}: {}",
            fine.stdout
        );
    }
}
