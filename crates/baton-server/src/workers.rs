//! Threads that own the store's connections. SQLite calls block, so they never run on the
//! async runtime: a handler sends a job and awaits its answer. Writes go through one writer
//! thread, so the server's own writes never wait on each other's locks; reads are spread
//! over a few reader threads.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use baton_core::{Api, Error, Result};

use crate::backend::Backend;

type Job = Box<dyn FnOnce(&dyn Api) + Send>;

#[derive(Clone)]
pub struct Workers {
    jobs: mpsc::Sender<Job>,
}

impl Workers {
    /// Starts `count` threads, each with a connection from `backend`. `wake` is signalled
    /// after every job (the writer wakes the event feed).
    pub fn start(
        name: &str,
        count: usize,
        backend: Arc<dyn Backend>,
        wake: Option<crate::feed::Waker>,
    ) -> Result<Workers> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..count {
            // Open here so a broken database fails the start, not the first request.
            let api = backend.open()?;
            let queue = queue.clone();
            let wake = wake.clone();
            std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || serve(api, &queue, wake.as_ref()))
                .map_err(|e| Error::Internal(format!("cannot start a worker thread: {e}")))?;
        }
        Ok(Workers { jobs })
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
            let _ = answer.send(result);
        });
        self.jobs.send(job).map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

fn stopped() -> Error {
    Error::Unavailable {
        message: "the server is shutting down".into(),
        hint: Some("retry once it is back".into()),
    }
}

fn serve(
    api: Box<dyn Api + Send>,
    queue: &Mutex<mpsc::Receiver<Job>>,
    wake: Option<&crate::feed::Waker>,
) {
    loop {
        let job = {
            let Ok(queue) = queue.lock() else { return };
            match queue.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        job(api.as_ref());
        if let Some(wake) = wake {
            wake.wake();
        }
    }
}
