//! Several `baton serve` replicas on one PostgreSQL database: pickups through any replica
//! never hand a task out twice, and a change through one reaches every replica's stream.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_client::{Client, FollowFilter};
use baton_core::api::{NewTask, PickupRequest};
use baton_core::Api;
use baton_postgres::testing::TestDatabase;
use baton_server::{PostgresBackend, Server, ServerOptions};

const CLIENTS: usize = 32;
const TASKS: usize = 240;

/// Replicas on one database, served by one runtime. Field order: the servers stop before
/// the database is dropped.
struct Replicas {
    urls: Vec<String>,
    servers: Vec<Server>,
    runtime: tokio::runtime::Runtime,
    _database: TestDatabase,
}

impl Replicas {
    fn start(count: usize, options: ServerOptions) -> Option<Replicas> {
        let database = TestDatabase::create()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut servers = Vec::new();
        for _ in 0..count {
            // Each replica opens (and, the first time, migrates) the database itself, as
            // separate processes would.
            let backend = PostgresBackend::new(database.url(), "replicas").unwrap();
            servers.push(
                runtime
                    .block_on(Server::start(
                        Arc::new(backend),
                        "127.0.0.1:0".parse().unwrap(),
                        options.clone(),
                    ))
                    .unwrap(),
            );
        }
        Some(Replicas {
            urls: servers
                .iter()
                .map(|s| format!("http://{}", s.addr))
                .collect(),
            servers,
            runtime,
            _database: database,
        })
    }

    fn client(&self, replica: usize) -> Client {
        Client::new(&self.urls[replica], None).unwrap()
    }
}

impl Drop for Replicas {
    fn drop(&mut self) {
        for server in self.servers.drain(..) {
            let _ = self.runtime.block_on(server.shutdown());
        }
    }
}

fn add(api: &dyn Api, title: &str) {
    api.add_tasks(
        "lead",
        vec![NewTask {
            title: title.into(),
            ..NewTask::default()
        }],
    )
    .unwrap();
}

/// The stream's events on a channel, so a missing event fails the test instead of hanging.
fn events(mut feed: baton_client::EventFeed) -> std::sync::mpsc::Receiver<baton_core::Event> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        while let Some(Ok(event)) = feed.next() {
            if tx.send(event).is_err() {
                return;
            }
        }
    });
    rx
}

#[test]
fn concurrent_pickups_across_two_replicas_claim_every_task_exactly_once() {
    let Some(replicas) = Replicas::start(2, ServerOptions::default()) else {
        return;
    };
    let tasks: Vec<NewTask> = (0..TASKS)
        .map(|i| NewTask {
            title: format!("task {i}"),
            ..NewTask::default()
        })
        .collect();
    replicas.client(0).add_tasks("lead", tasks).unwrap();

    let workers: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let client = replicas.client(i % 2);
            std::thread::spawn(move || {
                let agent = format!("agent-{i}");
                let mut claimed = Vec::new();
                loop {
                    match client.pickup(&agent, &PickupRequest::default()) {
                        Ok(p) => claimed.push((p.task.id.number(), agent.clone())),
                        Err(e) if e.code() == "no_task_ready" => return claimed,
                        Err(e) => panic!("{agent}: pickup failed: {e:?}"),
                    }
                }
            })
        })
        .collect();
    let mut holders: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for worker in workers {
        for (task, agent) in worker.join().unwrap() {
            holders.entry(task).or_default().push(agent);
        }
    }
    let twice: Vec<_> = holders.iter().filter(|(_, a)| a.len() > 1).collect();
    assert!(twice.is_empty(), "claimed more than once: {twice:?}");
    assert_eq!(holders.len(), TASKS, "every task was claimed");
    // The store agrees with what the clients were told.
    for replica in 0..2 {
        let board = replicas.client(replica).board().unwrap();
        assert_eq!(board.counts.in_progress, TASKS as u64);
        assert_eq!(board.counts.open, 0);
    }
}

#[test]
fn a_change_through_one_replica_reaches_the_stream_of_the_other() {
    // Polling so slow that only a notification can deliver in time.
    let options = ServerOptions {
        poll_interval: Duration::from_secs(10),
        ..ServerOptions::default()
    };
    let Some(replicas) = Replicas::start(2, options) else {
        return;
    };
    let (first, second) = (replicas.client(0), replicas.client(1));
    add(&first, "before");
    let feed = events(second.follow(&FollowFilter::default()).unwrap());
    let mut latencies = Vec::new();
    let mut last_id = 0;
    for title in ["one", "two", "three"] {
        let started = Instant::now();
        add(&first, title);
        let event = feed
            .recv_timeout(Duration::from_secs(5))
            .expect("the event arrived");
        latencies.push(started.elapsed());
        assert_eq!(event.detail["title"], title);
        last_id = event.id;
    }
    latencies.sort();
    eprintln!("replica 1 -> replica 2 stream latency: {latencies:?}");
    assert!(
        latencies[1] < Duration::from_millis(250),
        "median {:?} of {latencies:?}",
        latencies[1]
    );
    drop(feed);

    // Resuming on the other replica with the id one replica sent: no gap, no repeat.
    add(&second, "four");
    let resumed = events(
        first
            .follow(&FollowFilter {
                after: Some(last_id),
                ..FollowFilter::default()
            })
            .unwrap(),
    );
    let event = resumed.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(
        (event.id, event.detail["title"].as_str()),
        (last_id + 1, Some("four"))
    );
}

/// Until `check` is refused as unauthenticated; how long that took.
/// The cache's age bound plus room for one request on a loaded machine.
const LATEST_REFUSAL: Duration =
    Duration::from_millis(baton_server::auth::CACHE_FOR.as_millis() as u64 + 500);

fn refused_within(check: impl Fn() -> baton_core::Result<serde_json::Value>) -> Duration {
    let started = Instant::now();
    loop {
        match check() {
            Err(e) => {
                assert_eq!(e.class(), baton_core::ErrorClass::Unauthenticated, "{e}");
                return started.elapsed();
            }
            Ok(_) => {
                assert!(started.elapsed() < Duration::from_secs(3), "never refused");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// Team mode on two replicas: a session started on one works on the other, and a logout
/// or a revocation on one is refused on the other as soon as its feed carries the change
/// (LISTEN/NOTIFY: milliseconds), and never later than the credential cache's second
/// (both read the store, and sign with the one key kept there).
#[test]
fn replicas_share_users_sessions_and_revocations() {
    use baton_core::auth::Role;
    use baton_core::instance::{NewToken, NewUser};
    let Some(replicas) = Replicas::start(
        2,
        ServerOptions {
            team: true,
            ..ServerOptions::default()
        },
    ) else {
        return;
    };
    let store = baton_core::Board::new(
        baton_postgres::PostgresStore::open(replicas._database.url()).unwrap(),
    );
    store
        .instance()
        .add_user(
            "setup",
            NewUser {
                name: "root".into(),
                email: None,
                password: "correct horse battery".into(),
                admin: true,
            },
        )
        .unwrap();
    let (a, b) = (replicas.client(0), replicas.client(1));
    let (_, session) = a
        .instance()
        .login("root", "correct horse battery", "")
        .unwrap();
    let on_b = b.with_token(Some(session.id.clone()));
    assert_eq!(on_b.whoami().unwrap()["user"], "root");
    a.instance().logout(&session.id).unwrap();
    // b may have checked this session within the last second; the feed drops it from
    // b's cache in milliseconds, the cache's age bound at the latest.
    let took = refused_within(|| on_b.whoami());
    assert!(took <= LATEST_REFUSAL, "{took:?}");

    let (_, session) = b
        .instance()
        .login("root", "correct horse battery", "")
        .unwrap();
    let admin_b = b.with_token(Some(session.id.clone()));
    let made = admin_b
        .instance()
        .create_token(
            "",
            NewToken {
                name: None,
                project: None,
                agent: Some("claude".into()),
                role: Role::Agent,
                expires_at: None,
            },
        )
        .unwrap();
    let agent_a = a.with_token(Some(made.token.clone()));
    assert_eq!(agent_a.whoami().unwrap()["agent"], "claude");
    admin_b
        .with_token(Some(session.id.clone()))
        .instance()
        .revoke_token("", made.info.id)
        .unwrap();
    let took = refused_within(|| agent_a.whoami());
    assert!(took <= LATEST_REFUSAL, "{took:?}");
    // A user made through one replica logs in through the other.
    admin_b
        .instance()
        .add_user(
            "",
            NewUser {
                name: "ann".into(),
                email: None,
                password: "another good one".into(),
                admin: false,
            },
        )
        .unwrap();
    assert!(a.instance().login("ann", "another good one", "").is_ok());
}
