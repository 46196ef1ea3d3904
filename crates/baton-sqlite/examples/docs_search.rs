//! Benchmark: full-text search latency on a knowledge base of many docs, in process, through
//! the `Api` (`Board` over `SqliteStore`), the way the CLI and the server call it.
//! `bench/docs.sh` runs it in release mode.
//!
//!   cargo run --release -p baton-sqlite --example docs_search -- [DOCS] [SEARCHES]
//!
//! Docs are generated with a fixed seed: markdown-like bodies of 150 to 600 words whose word
//! frequencies follow Zipf's law, as natural text does, over a vocabulary of about 20,000
//! words (300 real technical words at the top ranks, then made-up ones). Queries take one to
//! three words of the same distribution, skipping the 30 most frequent (function words people
//! rarely type), except that every fourth query adds one of them; one word in eight is a
//! rare identifier such as `fn_1234`. Queries match from a handful of docs to thousands.

use std::time::{Duration, Instant};

use baton_core::api::{DocSearch, NewDoc};
use baton_core::model::DocType;
use baton_core::{Api, Board};
use baton_sqlite::SqliteStore;

const WORDS: &str = "the a to of and in is for on that with it as be by this from are at or \
    an not can when use run if all new one out file task agent code test build error cache \
    server client token session user request response api database query index table row \
    column schema migration lock lease fence claim reservation glob path branch commit merge \
    review deploy release config setting timeout retry queue worker thread process signal \
    memory disk network socket port route handler middleware auth login logout password hash \
    secret key vault certificate tls http json yaml toml markdown parser lexer token stream \
    buffer channel event log metric trace span dashboard chart kanban board column card epic \
    sprint backlog priority status blocked done open progress verify acceptance criteria \
    dependency graph cycle order sort filter search ranking snippet relevance document \
    version history author title body tag link reference decision learning operational \
    refresh rotation expiry revoke scope role admin viewer reviewer account project team \
    replica postgres sqlite wal checkpoint fsync durable crash recovery backup restore export \
    import codepakt snake game grid cell food collision score restart keyboard arrow render \
    canvas style css html script module crate trait struct enum impl async await future \
    tokio axum clap serde rusqlite notify tempfile proptest insta benchmark latency throughput \
    percentile median p50 p95 regression flaky slow fast warm cold startup shutdown panic \
    unwrap result option string vector map set heap stack pointer reference borrow lifetime \
    generic closure iterator macro attribute derive feature workspace manifest lockfile \
    registry mirror proxy offline vendor fork upstream patch diff hunk conflict rebase squash";

/// xorshift64*: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Words by rank, and a sampler of ranks following Zipf's law (weight 1/rank).
struct Vocabulary {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Vocabulary {
    fn new(real: &str, size: usize) -> Vocabulary {
        let syllables = [
            "ka", "lo", "mi", "ter", "san", "dor", "vel", "qui", "ra", "neth", "bo", "zu", "fen",
            "gal", "ish", "or", "pli", "tam", "vor", "ex",
        ];
        let mut words: Vec<String> = real.split_whitespace().map(str::to_string).collect();
        let mut i = 0usize;
        while words.len() < size {
            let (a, b, c) = (i % 20, (i / 20) % 20, (i / 400) % 20);
            words.push(format!("{}{}{}", syllables[a], syllables[b], syllables[c]));
            i += 1;
        }
        let mut total = 0.0;
        let cumulative = (1..=words.len())
            .map(|r| {
                total += 1.0 / r as f64;
                total
            })
            .collect();
        Vocabulary { words, cumulative }
    }

    fn rank(&self, rng: &mut Rng) -> usize {
        let x = rng.unit() * self.cumulative.last().unwrap();
        self.cumulative
            .partition_point(|c| *c < x)
            .min(self.words.len() - 1)
    }

    fn word(&self, rng: &mut Rng) -> &str {
        &self.words[self.rank(rng)]
    }

    /// A word people type: not among the 30 most frequent.
    fn query_word(&self, rng: &mut Rng) -> &str {
        loop {
            let r = self.rank(rng);
            if r >= 30 {
                return &self.words[r];
            }
        }
    }
}

fn sentence(rng: &mut Rng, v: &Vocabulary) -> String {
    let n = 6 + rng.below(14);
    let mut s: Vec<String> = (0..n).map(|_| v.word(rng).to_string()).collect();
    if rng.below(8) == 0 {
        // Identifiers: rare, exact terms people search for.
        s.push(format!("fn_{}", rng.below(50_000)));
    }
    let mut text = s.join(" ");
    text.push('.');
    text
}

fn make_doc(rng: &mut Rng, v: &Vocabulary, i: usize) -> NewDoc {
    let title: Vec<String> = (0..3 + rng.below(5))
        .map(|_| v.query_word(rng).to_string())
        .collect();
    let mut body = String::new();
    let target = 150 + rng.below(450);
    let mut count = 0;
    while count < target {
        if rng.below(6) == 0 {
            body.push_str(&format!("\n\n## {}\n\n", v.query_word(rng)));
        }
        let s = sentence(rng, v);
        count += s.split(' ').count();
        body.push_str(&s);
        body.push(' ');
    }
    NewDoc {
        kind: DocType::ALL[i % DocType::ALL.len()],
        title: title.join(" "),
        body,
        tags: vec![v.query_word(rng).to_string()],
        tasks: Vec::new(),
        author: None,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let mut args = std::env::args().skip(1);
    let docs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let searches: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let vocabulary = Vocabulary::new(WORDS, 20_000);
    let dir = tempfile::tempdir().expect("temp dir");
    // BENCH_DB keeps the database for a closer look (it must not exist yet).
    let path = std::env::var_os("BENCH_DB")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("baton.db"));
    let (store, _) = SqliteStore::create(&path, "bench").expect("store");
    let board = Board::new(store);
    let mut rng = Rng(0x5EED_1234_ABCD_0001);

    let start = Instant::now();
    let mut bytes = 0usize;
    for i in 0..docs {
        let d = make_doc(&mut rng, &vocabulary, i);
        bytes += d.body.len();
        board.write_doc("bench", d).expect("write");
    }
    let written = start.elapsed();
    println!(
        "wrote {docs} docs ({:.1} MB of body) in {:.2} s ({:.2} ms per doc)",
        bytes as f64 / 1e6,
        written.as_secs_f64(),
        ms(written) / docs as f64
    );

    let queries: Vec<String> = (0..200)
        .map(|i| {
            let mut q: Vec<String> = (0..1 + i % 3)
                .map(|_| {
                    if rng.below(8) == 0 {
                        format!("fn_{}", rng.below(50_000))
                    } else {
                        vocabulary.query_word(&mut rng).to_string()
                    }
                })
                .collect();
            if i % 4 == 0 {
                q.push(vocabulary.words[rng.below(30)].clone());
            }
            q.join(" ")
        })
        .collect();
    for q in queries.iter().take(50) {
        board
            .search_docs(&DocSearch {
                query: q.clone(),
                ..DocSearch::default()
            })
            .expect("warm-up");
    }
    let mut times = Vec::with_capacity(searches);
    let mut by_query: Vec<(Duration, String)> = Vec::new();
    let mut hits = 0usize;
    for i in 0..searches {
        let q = &queries[i % queries.len()];
        let t = Instant::now();
        let found = board
            .search_docs(&DocSearch {
                query: q.clone(),
                ..DocSearch::default()
            })
            .expect("search");
        times.push(t.elapsed());
        by_query.push((t.elapsed(), q.clone()));
        hits += found.len();
    }
    times.sort();
    if std::env::var_os("SLOWEST").is_some() {
        by_query.sort();
        for (d, q) in by_query.iter().rev().take(15) {
            println!("  {:8.3} ms  {q}", ms(*d));
        }
    }
    println!(
        "search: {searches} queries (limit 10, {:.1} hits on average): p50 {:.3} ms  p95 {:.3} ms  p99 {:.3} ms  max {:.3} ms",
        hits as f64 / searches as f64,
        ms(percentile(&times, 0.50)),
        ms(percentile(&times, 0.95)),
        ms(percentile(&times, 0.99)),
        ms(*times.last().unwrap()),
    );
}
