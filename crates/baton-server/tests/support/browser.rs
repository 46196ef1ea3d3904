//! A real browser for the dashboard tests: chromedriver on a free port, a headless
//! Chromium session, and the waits and actions the tests share (a live page re-renders
//! under them, so each finds its element again when it was replaced).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

pub struct Driver {
    child: Child,
    pub port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser at a time: three Chromiums at once on two cores only make each test slower.
pub static ONE_BROWSER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// chromedriver on a free port, or `None` (a failure in CI) when it is not installed. The
/// port is checked to be answered by this chromedriver (another process may take a port
/// between our probe and its bind); on a clash it starts again on another port.
pub fn chromedriver() -> Option<Driver> {
    super::tool("chromium")?;
    let binary = super::tool("chromedriver")?;
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut driver = Driver {
            child: Command::new(&binary)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if driver.child.try_wait().unwrap().is_some() {
                break; // it could not bind: try another port
            }
            let status = ureq::get(&format!("http://127.0.0.1:{port}/status"))
                .call()
                .ok()
                .and_then(|r| r.into_body().read_to_string().ok())
                .unwrap_or_default();
            if status.contains("\"ready\"") {
                return Some(driver);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = driver.child.kill();
    }
    panic!("chromedriver did not start on any of five ports");
}

pub async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,800"]
        }),
    );
    caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a browser session")
}

/// Console messages at error level since the last call (chromedriver's log endpoint).
pub async fn console_errors(client: &Client, driver: &Driver) -> Vec<Value> {
    let session = client.session_id().await.unwrap().unwrap();
    let url = format!("http://127.0.0.1:{}/session/{session}/se/log", driver.port);
    let body: Value = ureq::post(&url)
        .header("Content-Type", "application/json")
        .send(&br#"{"type": "browser"}"#[..])
        .ok()
        .and_then(|r| r.into_body().read_to_string().ok())
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    body["value"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e["level"] == "SEVERE")
        .collect()
}

/// The end of every page test: no errors in the console, then the browser closes.
pub async fn finish(client: Client, driver: &Driver) {
    let errors = console_errors(&client, driver).await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    client.close().await.unwrap();
}

pub async fn screenshot(client: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/dashboard");
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// Opens a view of the page at `url` and waits until it is drawn and no render is running
/// (so a selector that the previous view also had cannot match too early).
pub async fn visit(client: &Client, url: &str, hash: &str) {
    client.goto(&format!("{url}/{hash}")).await.unwrap();
    let hash = serde_json::to_string(hash).unwrap();
    until(
        client,
        &format!("document.body.dataset.shown === {hash} && !document.body.dataset.busy"),
        Duration::from_secs(15),
    )
    .await;
}

/// Waits until `script` (a JS expression) is truthy; returns how long it took.
pub async fn until(client: &Client, script: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let v = client
            .execute(&format!("return !!({script});"), vec![])
            .await
            .unwrap();
        if v == Value::Bool(true) {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "timed out waiting for: {script}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits (10 s at most) until `done` holds, as something the page did reaches the board.
pub async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether `script` became true within `limit`.
pub async fn within(client: &Client, script: &str, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        let v = client
            .execute(&format!("return !!({script});"), vec![])
            .await
            .unwrap();
        if v == Value::Bool(true) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Types into a form's field and submits it until `done` holds: a live re-render (the
/// page following the change it just made) may replace the form between the two.
pub async fn submit(client: &Client, field: &str, text: &str, button: &str, done: &str) {
    for _ in 0..5 {
        type_into(client, field, text).await;
        click(client, button).await;
        if within(client, done, Duration::from_secs(3)).await {
            return;
        }
    }
    panic!("submitting {field} never led to: {done}");
}

/// Finds and acts on an element again if a live re-render replaced it in between.
pub async fn type_into(client: &Client, css: &str, text: &str) {
    for _ in 0..10 {
        let field = client.find(Locator::Css(css)).await.unwrap();
        if field.send_keys(text).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("could not type into {css}");
}

pub async fn click(client: &Client, css: &str) {
    for _ in 0..10 {
        let target = client.find(Locator::Css(css)).await.unwrap();
        if target.click().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("could not click {css}");
}

pub fn card_in(id: &str, column: &str) -> String {
    format!("document.querySelector('[data-status=\"{column}\"] .card[data-id=\"{id}\"]')")
}

/// HTML5 drag and drop, dispatched as the browser would (WebDriver's pointer actions do
/// not start native drags in Chromium).
pub async fn drag(client: &Client, id: &str, column: &str) {
    client
        .execute(
            "const [id, status] = arguments;
             const card = document.querySelector(`.card[data-id=\"${id}\"]`);
             const zone = document.querySelector(`.column[data-status=\"${status}\"], .band[data-status=\"${status}\"]`);
             const dt = new DataTransfer();
             card.dispatchEvent(new DragEvent('dragstart', { dataTransfer: dt, bubbles: true }));
             zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
             zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));",
            vec![json!(id), json!(column)],
        )
        .await
        .unwrap();
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A server whose code page shows a small indexed Python package: `app/session.py` (as
/// given) and `app/login.py`, which imports it. The folder lives as long as the guard.
pub fn python_code_server(session_py: &str) -> (tempfile::TempDir, super::TestServer) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    std::fs::write(dir.path().join("app/__init__.py"), "").unwrap();
    std::fs::write(dir.path().join("app/session.py"), session_py).unwrap();
    std::fs::write(
        dir.path().join("app/login.py"),
        "from app.session import SessionStore\n\ndef login():\n    return SessionStore()\n",
    )
    .unwrap();
    baton_code::scan_full(dir.path()).unwrap();
    let server = super::TestServer::start_with(baton_server::ServerOptions {
        code_root: Some(dir.path().to_path_buf()),
        ..baton_server::ServerOptions::default()
    });
    (dir, server)
}
