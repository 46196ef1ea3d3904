//! `/metrics` in the Prometheus text format: requests by route and status, latency
//! histograms, pickups, tasks by status, open event streams, memory.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use baton_core::api::OperationsStats;
use baton_core::StatusCounts;

/// Distinct log actions given a label of their own; later ones count as `other`, so that
/// made-up actions cannot grow the number of series without bound.
const MAX_LOG_ACTIONS: usize = 50;
/// Providers given a label of their own (the most used); the rest count as `other`.
const MAX_PROVIDERS: usize = 20;

/// Log entries counted so far, by (action label, level), and the event id counted through.
#[derive(Default)]
struct LogCounts {
    through: u64,
    by: BTreeMap<(String, String), u64>,
}

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default)]
struct Histogram {
    /// Observations at or below each bound (not cumulative; summed when rendered).
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// The `method` label: the methods the routes serve; any other is `other`, so made-up
/// methods cannot grow the number of series.
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    const KNOWN: [(Method, &str); 7] = [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::PATCH, "PATCH"),
        (Method::DELETE, "DELETE"),
        (Method::OPTIONS, "OPTIONS"),
    ];
    KNOWN
        .iter()
        .find(|(known, _)| known == method)
        .map_or("other", |(_, label)| label)
}

#[derive(Default)]
pub struct Metrics {
    /// By (method label, route template or `unmatched`, status): each from a bounded set.
    requests: Mutex<BTreeMap<(&'static str, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    pickups_claimed: AtomicU64,
    pickups_refused: AtomicU64,
    streams: AtomicI64,
    log: Mutex<LogCounts>,
}

impl Metrics {
    /// Records one answered request. `method` comes from [`method_label`]; `route` is the
    /// matched route template (or `unmatched`), never the raw path, so ids do not explode
    /// the label set; `status` is one the server produced.
    pub fn request(&self, method: &'static str, route: &str, status: u16, took: Duration) {
        if let Ok(mut requests) = self.requests.lock() {
            *requests
                .entry((method, route.to_string(), status))
                .or_default() += 1;
        }
        if let Ok(mut latency) = self.latency.lock() {
            let h = latency.entry(route.to_string()).or_default();
            let secs = took.as_secs_f64();
            if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
                h.buckets[i] += 1;
            }
            h.sum += secs;
            h.count += 1;
        }
    }

    pub fn pickup(&self, claimed: bool) {
        let counter = if claimed {
            &self.pickups_claimed
        } else {
            &self.pickups_refused
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The event id log entries are counted through: the next scrape asks for those after.
    pub fn log_through(&self) -> u64 {
        self.log.lock().map(|l| l.through).unwrap_or(0)
    }

    /// Adds the log entries of `stats` (read after event `after`), unless another scrape
    /// counted them meanwhile.
    pub fn count_log(&self, after: u64, stats: &OperationsStats) {
        let Ok(mut log) = self.log.lock() else { return };
        if log.through != after || stats.through < after {
            return;
        }
        for entry in &stats.log_entries {
            let known = log.by.keys().any(|(a, _)| *a == entry.action);
            let distinct = log
                .by
                .keys()
                .map(|(a, _)| a.as_str())
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            let action = if known || distinct < MAX_LOG_ACTIONS {
                entry.action.clone()
            } else {
                "other".to_string()
            };
            *log.by.entry((action, entry.level.clone())).or_default() += entry.entries;
        }
        log.through = stats.through;
    }

    pub fn stream_opened(&self) {
        self.streams.fetch_add(1, Ordering::Relaxed);
    }

    pub fn stream_closed(&self) {
        self.streams.fetch_sub(1, Ordering::Relaxed);
    }

    /// The exposition, with the board's counts read at scrape time.
    pub fn render(
        &self,
        tasks: Option<&StatusCounts>,
        ops: Option<&OperationsStats>,
        writer: &crate::workers::WriterStats,
        last_event: u64,
        uptime: Duration,
    ) -> String {
        let mut out = String::with_capacity(4096);
        let o = &mut out;
        header(
            o,
            "baton_http_requests_total",
            "counter",
            "HTTP requests answered, by route and status.",
        );
        if let Ok(requests) = self.requests.lock() {
            for ((method, route, status), n) in requests.iter() {
                let _ = writeln!(
                    o,
                    "baton_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(method),
                    escape(route)
                );
            }
        }
        header(
            o,
            "baton_http_request_duration_seconds",
            "histogram",
            "Time to answer a request, by route.",
        );
        if let Ok(latency) = self.latency.lock() {
            for (route, h) in latency.iter() {
                let route = escape(route);
                let mut cumulative = 0;
                for (bound, n) in BUCKETS.iter().zip(h.buckets.iter()) {
                    cumulative += n;
                    let _ = writeln!(
                        o,
                        "baton_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                    );
                }
                let _ = writeln!(
                    o,
                    "baton_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    o,
                    "baton_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    o,
                    "baton_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count
                );
            }
        }
        header(
            o,
            "baton_pickups_total",
            "counter",
            "Pickup requests, by whether a task was claimed.",
        );
        let _ = writeln!(
            o,
            "baton_pickups_total{{result=\"claimed\"}} {}",
            self.pickups_claimed.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            o,
            "baton_pickups_total{{result=\"refused\"}} {}",
            self.pickups_refused.load(Ordering::Relaxed)
        );
        if let Some(counts) = tasks {
            header(
                o,
                "baton_tasks",
                "gauge",
                "Tasks on the board, by status (deleted tasks left out).",
            );
            for (status, n) in [
                ("backlog", counts.backlog),
                ("open", counts.open),
                ("in-progress", counts.in_progress),
                ("review", counts.review),
                ("done", counts.done),
                ("blocked", counts.blocked),
            ] {
                let _ = writeln!(o, "baton_tasks{{status=\"{status}\"}} {n}");
            }
        }
        if let Some(ops) = ops {
            if let Ok(log) = self.log.lock() {
                render_operations(o, ops, &log.by);
            }
        }
        let single: [(&str, &str, &str, String); 5] = [
            (
                "baton_writer_calls_total",
                "counter",
                "Calls run by the writer.",
                writer.calls.load(Ordering::Relaxed).to_string(),
            ),
            (
                "baton_writer_commits_total",
                "counter",
                "Commits by the writer (a group of calls shares one).",
                writer.commits.load(Ordering::Relaxed).to_string(),
            ),
            (
                "baton_event_streams",
                "gauge",
                "Open live event streams.",
                self.streams.load(Ordering::Relaxed).max(0).to_string(),
            ),
            (
                "baton_last_event_id",
                "gauge",
                "The id of the newest event sent to streams.",
                last_event.to_string(),
            ),
            (
                "baton_uptime_seconds",
                "gauge",
                "Seconds since the server started.",
                uptime.as_secs_f64().to_string(),
            ),
        ];
        for (name, kind, help, value) in single {
            header(o, name, kind, help);
            let _ = writeln!(o, "{name} {value}");
        }
        if let Some(rss) = resident_bytes() {
            header(
                o,
                "process_resident_memory_bytes",
                "gauge",
                "Resident memory size in bytes.",
            );
            let _ = writeln!(o, "process_resident_memory_bytes {rss}");
        }
        out
    }
}

/// Runs, tokens, cost, sessions and log entries, in the exposition format. `log` holds the
/// log entries counted so far by (action, level).
pub fn render_operations(
    o: &mut String,
    ops: &OperationsStats,
    log: &BTreeMap<(String, String), u64>,
) {
    // The most used providers keep their name; the rest are `other`.
    let mut used: BTreeMap<&str, u64> = BTreeMap::new();
    for r in &ops.runs {
        *used.entry(r.provider.as_str()).or_default() += r.runs;
    }
    let mut ranked: Vec<(&str, u64)> = used.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let named: std::collections::BTreeSet<&str> =
        ranked.iter().take(MAX_PROVIDERS).map(|(p, _)| *p).collect();
    let provider = |p: &str| {
        if named.contains(p) {
            p.to_string()
        } else {
            "other".to_string()
        }
    };
    let mut runs: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut tokens: BTreeMap<(String, &str), u64> = BTreeMap::new();
    let mut cost: BTreeMap<String, f64> = BTreeMap::new();
    for r in &ops.runs {
        let p = provider(&r.provider);
        *runs.entry((p.clone(), r.status.clone())).or_default() += r.runs;
        for (kind, n) in [
            ("input", r.input_tokens),
            ("output", r.output_tokens),
            ("cache_read", r.cache_read_tokens),
            ("cache_write", r.cache_write_tokens),
            ("reasoning", r.reasoning_tokens),
        ] {
            *tokens.entry((p.clone(), kind)).or_default() += n;
        }
        *cost.entry(p).or_default() += r.cost_usd;
    }
    header(
        o,
        "baton_runs_total",
        "counter",
        "Agent runs recorded, by provider and outcome (running for those still going).",
    );
    for ((p, status), n) in &runs {
        let _ = writeln!(
            o,
            "baton_runs_total{{provider=\"{}\",status=\"{}\"}} {n}",
            escape(p),
            escape(status)
        );
    }
    header(
        o,
        "baton_run_tokens_total",
        "counter",
        "Tokens the agent runs used, by provider and type.",
    );
    for ((p, kind), n) in &tokens {
        let _ = writeln!(
            o,
            "baton_run_tokens_total{{provider=\"{}\",type=\"{kind}\"}} {n}",
            escape(p)
        );
    }
    header(
        o,
        "baton_run_cost_usd_total",
        "counter",
        "What the agent runs cost, in US dollars as their CLIs reported it, by provider.",
    );
    for (p, usd) in &cost {
        let _ = writeln!(
            o,
            "baton_run_cost_usd_total{{provider=\"{}\"}} {usd}",
            escape(p)
        );
    }
    header(
        o,
        "baton_sessions_started_total",
        "counter",
        "Sessions started (a person's, a system's, or an agent's run), by kind of actor.",
    );
    for st in &ops.sessions {
        let _ = writeln!(
            o,
            "baton_sessions_started_total{{kind=\"{}\"}} {}",
            escape(&st.kind),
            st.started
        );
    }
    header(
        o,
        "baton_sessions_open",
        "gauge",
        "Sessions open now, by kind of actor.",
    );
    for st in &ops.sessions {
        let _ = writeln!(
            o,
            "baton_sessions_open{{kind=\"{}\"}} {}",
            escape(&st.kind),
            st.open
        );
    }
    header(
        o,
        "baton_log_entries_total",
        "counter",
        "Log entries written (baton log), by action and level.",
    );
    for ((action, level), n) in log {
        let _ = writeln!(
            o,
            "baton_log_entries_total{{action=\"{}\",level=\"{}\"}} {n}",
            escape(action),
            escape(level)
        );
    }
}

fn header(o: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(o, "# HELP {name} {help}");
    let _ = writeln!(o, "# TYPE {name} {kind}");
}

/// Label values escape backslash, quote and newline.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Resident set size, from `/proc/self/statm` (Linux); `None` elsewhere.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
