//! Threads that own the store's connections. SQLite calls block, so they never run on the
//! async runtime: a handler sends a job and awaits its answer. Writes go through one writer
//! thread, so the server's own writes never wait on each other's locks; reads are spread
//! over a few reader threads.
//!
//! The writer commits in groups: the jobs queued while it was busy run together in one
//! transaction (each in its own savepoint) and one commit, and are answered after it. Under
//! load this saves most of a commit per write; alone, a job is its own group.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use baton_core::{Api, Error, Result};

use crate::backend::{Backend, Writer};

/// Runs a call and hands back how to answer it: `None` to deliver its own result, or the
/// reason its group failed to commit.
type Job = Box<dyn FnOnce(&dyn Api) -> Answer + Send>;
type Answer = Box<dyn FnOnce(Option<&str>) + Send>;

/// The most jobs one commit covers.
const MAX_GROUP: usize = 64;

#[derive(Clone)]
pub struct Workers {
    jobs: mpsc::Sender<Job>,
    pub stats: Arc<WriterStats>,
}

/// What the writer did: how many calls, in how many commits (for `/metrics`).
#[derive(Default)]
pub struct WriterStats {
    pub calls: AtomicU64,
    pub commits: AtomicU64,
}

impl Workers {
    /// Starts `count` reader threads, each with a connection from `backend`.
    pub fn readers(name: &str, count: usize, backend: Arc<dyn Backend>) -> Result<Workers> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..count {
            // Open here so a broken database fails the start, not the first request.
            let api = backend.open()?;
            let queue = queue.clone();
            spawn(&format!("{name}-{i}"), move || serve(api, &queue))?;
        }
        Ok(Workers {
            jobs,
            stats: Arc::default(),
        })
    }

    /// Starts the writer thread; `wake` is signalled after every commit (the event feed).
    pub fn writer(backend: Arc<dyn Backend>, wake: crate::feed::Waker) -> Result<Workers> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let writer = backend.open_writer()?;
        let stats = Arc::new(WriterStats::default());
        let counts = stats.clone();
        spawn("baton-writer", move || {
            write(writer, &queue, &wake, &counts)
        })?;
        Ok(Workers { jobs, stats })
    }

    /// Runs `f` on a worker and waits for its answer without blocking the runtime.
    pub async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Api) -> Result<T> + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |api| {
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| f(api)))
                .unwrap_or_else(|_| Err(Error::Internal("a request panicked".into())));
            Box::new(move |failed: Option<&str>| {
                let result = match failed {
                    None => result,
                    Some(why) => Err(Error::Unavailable {
                        message: format!("the change was not saved: {why}"),
                        hint: Some("retry the request".into()),
                    }),
                };
                let _ = answer.send(result);
            })
        });
        self.jobs.send(job).map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

impl Workers {
    /// Runs `f` on a worker from a thread outside the async runtime (start-up).
    pub fn run_blocking<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Api) -> Result<T> + Send + 'static,
    {
        let (answer, answered) = mpsc::channel();
        let job: Job = Box::new(move |api| {
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| f(api)))
                .unwrap_or_else(|_| Err(Error::Internal("a request panicked".into())));
            Box::new(move |failed: Option<&str>| {
                let _ = answer.send(match failed {
                    None => result,
                    Some(why) => Err(Error::Unavailable {
                        message: format!("the change was not saved: {why}"),
                        hint: Some("retry".into()),
                    }),
                });
            })
        });
        self.jobs.send(job).map_err(|_| stopped())?;
        answered.recv().map_err(|_| stopped())?
    }
}

fn spawn(name: &str, body: impl FnOnce() + Send + 'static) -> Result<()> {
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(body)
        .map(|_| ())
        .map_err(|e| Error::Internal(format!("cannot start a worker thread: {e}")))
}

fn stopped() -> Error {
    Error::Unavailable {
        message: "the server is shutting down".into(),
        hint: Some("retry once it is back".into()),
    }
}

fn serve(api: Box<dyn Api + Send>, queue: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        let job = {
            let Ok(queue) = queue.lock() else { return };
            match queue.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        job(api.as_ref())(None);
    }
}

fn write(
    writer: Box<dyn Writer>,
    queue: &mpsc::Receiver<Job>,
    wake: &crate::feed::Waker,
    stats: &WriterStats,
) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        stats.calls.fetch_add(group.len() as u64, Ordering::Relaxed);
        if group.len() == 1 || writer.begin_group().is_err() {
            stats
                .commits
                .fetch_add(group.len() as u64, Ordering::Relaxed);
            // Alone (or the group could not start): each job is its own transaction.
            for job in group {
                job(writer.api())(None);
            }
        } else {
            stats.commits.fetch_add(1, Ordering::Relaxed);
            let answers: Vec<Answer> = group.into_iter().map(|job| job(writer.api())).collect();
            match writer.commit_group() {
                Ok(()) => answers.into_iter().for_each(|answer| answer(None)),
                Err(e) => {
                    writer.rollback_group();
                    let why = e.to_string();
                    answers.into_iter().for_each(|answer| answer(Some(&why)));
                }
            }
        }
        wake.wake();
    }
}

/// Applies the project's `log_retention` every `every` (first a few seconds after start):
/// a read checks the setting, then bounded deletes through the writer until none remain,
/// so other writes interleave with a long first prune.
pub fn apply_retention(
    writer: Workers,
    readers: Workers,
    every: std::time::Duration,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<()> {
    use baton_core::api::PruneRequest;
    use baton_core::board::leases::LOG_RETENTION;
    let step = std::time::Duration::from_millis(100).min(every);
    // Stopped, or the server that would stop it is gone.
    let over = move || *shutdown.borrow() || shutdown.has_changed().is_err();
    spawn("baton-retention", move || {
        let mut wait = every.min(std::time::Duration::from_secs(5));
        loop {
            let started = std::time::Instant::now();
            while started.elapsed() < wait {
                if over() {
                    return;
                }
                std::thread::sleep(step);
            }
            wait = every;
            let on = readers.run_blocking(|api| {
                Ok(api
                    .settings()?
                    .into_iter()
                    .any(|s| s.key == LOG_RETENTION && s.value != "off"))
            });
            match on {
                Ok(true) => {}
                Ok(false) => continue,
                Err(_) if over() => return,
                Err(e) => {
                    eprintln!("baton serve: log retention: cannot read the settings: {e}");
                    continue;
                }
            }
            loop {
                let report = writer
                    .run_blocking(|api| api.operations().prune_as_system(PruneRequest::default()));
                match report {
                    Ok(r) if r.more && !over() => continue,
                    Ok(_) => break,
                    Err(e) => {
                        eprintln!("baton serve: log retention: {e}");
                        break;
                    }
                }
            }
        }
    })
}
