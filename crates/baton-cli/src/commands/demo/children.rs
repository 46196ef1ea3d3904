//! The demo's two children, `baton serve` and `baton runner`: started in the demo project
//! with their output in one log, watched, and stopped (the runner first, so its agents'
//! work is committed while the server still shows it).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use baton_core::ErrorClass;

use crate::error::{CliError, CliResult};
use crate::project::Project;

/// How long the server may take to answer, and each child to stop.
const WAIT: Duration = Duration::from_secs(20);

pub struct Children {
    project: Project,
    log: PathBuf,
    server: Option<Child>,
    runner: Option<Child>,
}

/// Variables that would point a child at another board than the demo's.
const FOREIGN_ENV: [&str; 7] = [
    "BATON_AGENT",
    "BATON_URL",
    "BATON_DATABASE_URL",
    "BATON_TOKEN",
    "BATON_PROJECT",
    "BATON_ACCOUNTS",
    crate::project::DIR_ENV,
];

impl Children {
    pub fn new(project: &Project) -> CliResult<Children> {
        Ok(Children {
            project: project.clone(),
            log: project.dir().join("demo.log"),
            server: None,
            runner: None,
        })
    }

    pub fn log_path(&self) -> &PathBuf {
        &self.log
    }

    pub fn server_pid(&self) -> Option<u32> {
        self.server.as_ref().map(Child::id)
    }

    pub fn runner_pid(&self) -> Option<u32> {
        self.runner.as_ref().map(Child::id)
    }

    fn command(&self, args: &[&str]) -> CliResult<Command> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let mut cmd = Command::new(std::env::current_exe()?);
        cmd.args(args)
            .current_dir(&self.project.root)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        for name in FOREIGN_ENV {
            cmd.env_remove(name);
        }
        // Their own process group: a Ctrl-C in the terminal reaches the demo alone, which
        // stops them in order.
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
        Ok(cmd)
    }

    /// Starts `baton serve` and returns its URL once it answers.
    pub fn start_server(&mut self, port: u16) -> CliResult<String> {
        let port = port.to_string();
        let child = self
            .command(&["serve", "--port", &port, "--bind", "127.0.0.1"])?
            .spawn()?;
        let pid = child.id();
        self.server = Some(child);
        let state_file = self.project.dir().join("server.json");
        let deadline = Instant::now() + WAIT;
        loop {
            self.check()?;
            let url = std::fs::read_to_string(&state_file)
                .ok()
                .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
                .filter(|state| state["pid"].as_u64() == Some(pid as u64))
                .and_then(|state| state["url"].as_str().map(String::from));
            if let Some(url) = url {
                let answers = baton_client::Client::new(&url, None)
                    .and_then(|c| c.health())
                    .is_ok();
                if answers {
                    return Ok(url);
                }
            }
            if Instant::now() > deadline {
                return Err(self.failed(&format!(
                    "the server did not answer within {}s",
                    WAIT.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts `baton runner` with the demo's provider.
    pub fn start_runner(&mut self, agents: u16) -> CliResult {
        let agents = agents.to_string();
        let child = self
            .command(&[
                "runner",
                "--provider",
                super::setup::PROVIDER,
                "--max-agents",
                &agents,
                "--poll",
                "1s",
                "--idle-timeout",
                "5m",
                "--human",
            ])?
            .spawn()?;
        self.runner = Some(child);
        Ok(())
    }

    /// Fails when a child exited on its own (it says why in the log).
    pub fn check(&mut self) -> CliResult {
        let mut exited = None;
        for (name, child) in [("server", &mut self.server), ("runner", &mut self.runner)] {
            if let Some(status) = child.as_mut().map(Child::try_wait).transpose()?.flatten() {
                *child = None;
                exited = Some(format!("the {name} exited ({status})"));
                break;
            }
        }
        match exited {
            Some(what) => Err(self.failed(&what)),
            None => Ok(()),
        }
    }

    fn failed(&self, what: &str) -> CliError {
        let last = std::fs::read_to_string(&self.log)
            .ok()
            .and_then(|text| text.trim().lines().last().map(str::to_string))
            .unwrap_or_else(|| "no output".into());
        CliError::new(
            ErrorClass::Unavailable,
            "demo_failed",
            format!("{what}: {last}"),
        )
        .with_hint(format!(
            "see {} (pass --keep to keep it)",
            self.log.display()
        ))
    }

    /// Stops the runner (which commits its agents' work and stops them), then the server.
    pub fn stop(&mut self) {
        for child in [self.runner.take(), self.server.take()]
            .into_iter()
            .flatten()
        {
            stop_child(child);
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        self.stop();
    }
}

/// SIGTERM, then SIGKILL if it has not exited within [`WAIT`]; always reaped.
fn stop_child(mut child: Child) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}
