//! Reading the operations record (`baton analyze`): messages grouped by shape, and values
//! that sit far from their rolling baseline. Pure functions over what the log holds; no
//! store, no clock.

use std::collections::HashMap;

use serde::Serialize;

use crate::time::Timestamp;

/// A message's shape: what varies between occurrences of the same message is replaced by
/// a placeholder: quoted text `"…"`, UUIDs `<uuid>`, hex hashes `<hash>`, paths `<path>`,
/// Baton ids (`T-12`, `MR-3`) `<id>`, numbers `<n>`. Whitespace runs become one space.
pub fn shape(message: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for word in message.split_whitespace() {
        out.push(shape_word(word));
    }
    out.join(" ")
}

fn shape_word(word: &str) -> String {
    // Punctuation around a word stays: `(T-12),` -> `(<id>),`.
    let start = word
        .find(|c: char| c.is_alphanumeric() || "\"'/.~_-".contains(c))
        .unwrap_or(word.len());
    let end = word
        .rfind(|c: char| c.is_alphanumeric() || "\"'/_".contains(c))
        .map(|i| i + word[i..].chars().next().map_or(1, char::len_utf8))
        .unwrap_or(start)
        .max(start);
    let (before, core, after) = (&word[..start], &word[start..end], &word[end..]);
    let replaced = if core.is_empty() {
        String::new()
    } else if (core.starts_with('"') && core.ends_with('"') && core.len() > 1)
        || (core.starts_with('\'') && core.ends_with('\'') && core.len() > 1)
    {
        "\"…\"".into()
    } else if is_uuid(core) {
        "<uuid>".into()
    } else if core.len() >= 7
        && core.chars().all(|c| c.is_ascii_hexdigit())
        && core.chars().any(|c| c.is_ascii_digit())
    {
        "<hash>".into()
    } else if core.contains('/') && core.len() > 1 {
        "<path>".into()
    } else if is_id(core) {
        "<id>".into()
    } else if core.chars().any(|c| c.is_ascii_digit()) {
        numbers(core)
    } else {
        core.to_string()
    };
    format!("{before}{replaced}{after}")
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && [8, 4, 4, 4, 12]
            .iter()
            .zip(&parts)
            .all(|(n, p)| p.len() == *n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// `T-12`, `MR-3`, `E-1`: one to three capitals, a dash, digits.
fn is_id(s: &str) -> bool {
    match s.split_once('-') {
        Some((p, n)) => {
            (1..=3).contains(&p.len())
                && p.chars().all(|c| c.is_ascii_uppercase())
                && !n.is_empty()
                && n.chars().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// Each run of digits (with its decimal point or separators) becomes `<n>`: `3ms` ->
/// `<n>ms`, `1.5s` -> `<n>s`, `v1.4.2` -> `v<n>`.
fn numbers(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            while chars
                .peek()
                .is_some_and(|d| d.is_ascii_digit() || *d == '.' || *d == ',' || *d == ':')
            {
                chars.next();
            }
            out.push_str("<n>");
        } else {
            out.push(c);
        }
    }
    out
}

/// Messages of one shape: how many, when first and last, one example, and the actions
/// they were logged under.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Pattern {
    pub shape: String,
    pub count: u64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub example: String,
    pub actions: Vec<String>,
}

/// Groups `(message, when, action)` by [`shape`], most frequent first (then newest).
pub fn patterns<'a>(
    entries: impl IntoIterator<Item = (&'a str, Timestamp, &'a str)>,
) -> Vec<Pattern> {
    let mut by: HashMap<String, Pattern> = HashMap::new();
    for (message, at, action) in entries {
        let key = shape(message);
        let p = by.entry(key.clone()).or_insert_with(|| Pattern {
            shape: key,
            count: 0,
            first_seen: at,
            last_seen: at,
            example: message.to_string(),
            actions: Vec::new(),
        });
        p.count += 1;
        if at < p.first_seen {
            p.first_seen = at;
        }
        if at >= p.last_seen {
            p.last_seen = at;
            p.example = message.to_string();
        }
        if !p.actions.iter().any(|a| a == action) {
            p.actions.push(action.to_string());
        }
    }
    let mut all: Vec<Pattern> = by.into_values().collect();
    for p in &mut all {
        p.actions.sort();
    }
    all.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(b.last_seen.cmp(&a.last_seen))
            .then(a.shape.cmp(&b.shape))
    });
    all
}

/// A value far from what came before it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outlier {
    /// Its place in the series.
    pub index: usize,
    pub value: f64,
    /// The baseline: mean and standard deviation of the window before it.
    pub mean: f64,
    pub stddev: f64,
    /// How many (floored) standard deviations it sits from the mean; negative below.
    pub score: f64,
}

/// The smallest spread a baseline is given, as a share of its mean: a change of less than
/// a tenth of the usual level is never an anomaly, however flat the history was.
pub const RELATIVE_FLOOR: f64 = 0.1;

/// Values sitting more than `threshold` standard deviations from the mean of the `window`
/// values before them (at least 3 of them). The deviation is floored at
/// [`RELATIVE_FLOOR`] of the mean and at `min_spread` (1 for counts: one event more or
/// less is never an anomaly), so a flat history does not make every small wobble one.
pub fn outliers(series: &[f64], window: usize, threshold: f64, min_spread: f64) -> Vec<Outlier> {
    let window = window.max(3);
    let mut found = Vec::new();
    for (i, &value) in series.iter().enumerate() {
        if i < 3 {
            continue;
        }
        let history = &series[i.saturating_sub(window)..i];
        let n = history.len() as f64;
        let mean = history.iter().sum::<f64>() / n;
        let var = history.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        let stddev = var.sqrt();
        let floor = (mean.abs() * RELATIVE_FLOOR).max(min_spread).max(1e-9);
        let score = (value - mean) / stddev.max(floor);
        if score.abs() > threshold {
            found.push(Outlier {
                index: i,
                value,
                mean,
                stddev,
                score,
            });
        }
    }
    found
}

/// One value of the record far from its baseline, named by its series (`events by
/// claude-1`, `task.rejected events`, `claude run seconds`, `claude run cost (USD)`).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Anomaly {
    pub series: String,
    /// The start of the step (event rates) or the run's start.
    pub at: Timestamp,
    pub value: f64,
    /// The mean and standard deviation of the values before it.
    pub baseline: f64,
    pub stddev: f64,
    /// Standard deviations from the baseline (negative below it).
    pub score: f64,
}

/// How [`anomalies`] reads the record.
#[derive(Clone, Copy, Debug)]
pub struct AnomalyWindow {
    pub since: Timestamp,
    pub now: Timestamp,
    /// The width of one step of the event-rate series.
    pub bucket: std::time::Duration,
    /// How many earlier values make a baseline.
    pub window: usize,
    /// Flag values more than this many standard deviations away.
    pub threshold: f64,
}

impl AnomalyWindow {
    /// The bounds every caller shares: a step from 1 s to 1 day, a baseline of 3 to 1,000
    /// earlier values, a positive finite threshold, and `since` before `now`.
    pub fn new(
        since: Timestamp,
        now: Timestamp,
        bucket: std::time::Duration,
        window: usize,
        threshold: f64,
    ) -> crate::Result<AnomalyWindow> {
        use std::time::Duration;
        if !(Duration::from_secs(1)..=Duration::from_secs(86_400)).contains(&bucket) {
            return Err(crate::Error::invalid_with_hint(
                format!("a step of {} s is not from 1s to 1d", bucket.as_secs_f64()),
                "for example 10m or 1h",
            ));
        }
        if !(3..=1000).contains(&window) {
            return Err(crate::Error::invalid_with_hint(
                format!("a baseline of {window} values is not from 3 to 1000"),
                "for example 12 earlier values",
            ));
        }
        if !(threshold.is_finite() && threshold > 0.0) {
            return Err(crate::Error::invalid_with_hint(
                format!("threshold {threshold} is not a positive number"),
                "for example 3 (standard deviations)",
            ));
        }
        if since > now {
            return Err(crate::Error::invalid_with_hint(
                format!("{since} is in the future"),
                "give a time in the past, or a duration such as 24h",
            ));
        }
        Ok(AnomalyWindow {
            since,
            now,
            bucket,
            window,
            threshold,
        })
    }
}

/// The anomalies of the record since `w.since`: event rates per step by actor and by
/// action, and each provider's run duration, tokens and cost in the order runs started
/// (runs still going are left out). Newest first.
pub fn anomalies(
    events: &[crate::model::Event],
    runs: &[crate::model::Run],
    w: &AnomalyWindow,
) -> Vec<Anomaly> {
    use std::collections::BTreeMap;
    let bucket = (w.bucket.as_millis() as i64).max(1000);
    let start = w.since.unix_millis();
    let steps = ((w.now.unix_millis() - start) / bucket + 1).max(1) as usize;
    let at = |i: usize| Timestamp::from_unix_millis(start + i as i64 * bucket).unwrap_or(w.since);
    let mut rates: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for e in events.iter().filter(|e| e.at >= w.since) {
        let step = ((e.at.unix_millis() - start) / bucket).clamp(0, steps as i64 - 1) as usize;
        for key in [
            format!("events by {}", e.actor),
            format!("{} events", e.action),
        ] {
            rates.entry(key).or_insert_with(|| vec![0.0; steps])[step] += 1.0;
        }
    }
    let flag = |series: &str, at: Timestamp, o: Outlier| Anomaly {
        series: series.to_string(),
        at,
        value: o.value,
        baseline: o.mean,
        stddev: o.stddev,
        score: o.score,
    };
    let mut found = Vec::new();
    for (series, values) in &rates {
        for o in outliers(values, w.window, w.threshold, 1.0) {
            found.push(flag(series, at(o.index), o));
        }
    }
    let mut ended: Vec<&crate::model::Run> = runs
        .iter()
        .filter(|r| r.started_at >= w.since && r.ended_at.is_some())
        .collect();
    ended.sort_by_key(|r| (r.started_at, r.id.number()));
    let mut per: BTreeMap<String, Vec<(Timestamp, f64)>> = BTreeMap::new();
    for r in ended {
        let secs = r
            .ended_at
            .map(|e| (e.unix_millis() - r.started_at.unix_millis()) as f64 / 1000.0)
            .unwrap_or(0.0);
        let p = &r.provider;
        let mut push = |what: &str, value: f64| {
            per.entry(format!("{p} run {what}"))
                .or_default()
                .push((r.started_at, value))
        };
        push("seconds", secs);
        push("tokens", r.usage.total_tokens() as f64);
        if let Some(cost) = r.usage.cost_usd {
            push("cost (USD)", cost);
        }
    }
    for (series, points) in &per {
        let values: Vec<f64> = points.iter().map(|(_, v)| *v).collect();
        for o in outliers(&values, w.window, w.threshold, 0.0) {
            found.push(flag(series, points[o.index].0, o));
        }
    }
    found.sort_by(|a, b| b.at.cmp(&a.at).then(a.series.cmp(&b.series)));
    found
}

/// [`anomalies`] of what `api` holds: the events since `w.since` and the newest 10,000
/// runs.
pub fn read_anomalies(api: &dyn crate::Api, w: &AnomalyWindow) -> crate::Result<Vec<Anomaly>> {
    let events = api.events(&crate::store::EventQuery {
        since: Some(w.since),
        ..Default::default()
    })?;
    let runs = api.list_runs(&crate::api::RunFilter {
        limit: Some(10_000),
        ..Default::default()
    })?;
    Ok(anomalies(&events, &runs, w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn anomaly_windows_are_bounded() {
        let now = Timestamp::from_unix_millis(1_800_000_000_000).unwrap();
        let since = now.minus(std::time::Duration::from_secs(3600));
        let secs = std::time::Duration::from_secs;
        assert!(AnomalyWindow::new(since, now, secs(600), 12, 3.0).is_ok());
        for (bucket, window, threshold) in [
            (std::time::Duration::from_millis(500), 12, 3.0),
            (secs(86_401), 12, 3.0),
            (secs(600), 2, 3.0),
            (secs(600), 1001, 3.0),
            (secs(600), 12, 0.0),
            (secs(600), 12, f64::INFINITY),
            (secs(600), 12, f64::NAN),
        ] {
            let e = AnomalyWindow::new(since, now, bucket, window, threshold).unwrap_err();
            assert_eq!(e.code(), "invalid_input", "{bucket:?} {window} {threshold}");
            assert!(e.hint().is_some());
        }
        assert!(AnomalyWindow::new(now, since, secs(600), 12, 3.0).is_err());
    }

    #[test]
    fn shapes_hide_what_varies() {
        let cases = [
            ("Build 4123 failed in 3.2s", "Build <n> failed in <n>s"),
            ("task T-12 lost its lease", "task <id> lost its lease"),
            (
                "cannot open /srv/app/config.toml: denied",
                "cannot open <path>: denied",
            ),
            ("commit 9f8e7d6c5b4a pushed", "commit <hash> pushed"),
            (
                "request 123e4567-e89b-12d3-a456-426614174000 timed out",
                "request <uuid> timed out",
            ),
            ("user \"maya\" logged in", "user \"…\" logged in"),
            ("retry (MR-3), attempt 2", "retry (<id>), attempt <n>"),
            ("  spaced\tout  ", "spaced out"),
            ("déjà vu 7 fois", "déjà vu <n> fois"),
        ];
        for (message, want) in cases {
            assert_eq!(shape(message), want, "{message}");
        }
    }

    #[test]
    fn patterns_group_count_and_date_a_seeded_set() {
        let t = |s: i64| Timestamp::from_unix_millis(1_800_000_000_000 + s * 1000).unwrap();
        let entries = [
            ("Build 1 failed in 3.2s", t(1), "log.build"),
            ("Build 2 failed in 4.1s", t(5), "log.build"),
            ("task T-1 lost its lease", t(2), "log.error"),
            ("Build 3 failed in 1s", t(9), "log.ci"),
            ("task T-7 lost its lease", t(3), "log.error"),
            ("Deployed", t(4), "log.deploy"),
        ];
        let p = patterns(entries);
        assert_eq!(p.len(), 3);
        assert_eq!(
            (p[0].shape.as_str(), p[0].count),
            ("Build <n> failed in <n>s", 3)
        );
        assert_eq!((p[0].first_seen, p[0].last_seen), (t(1), t(9)));
        assert_eq!(p[0].example, "Build 3 failed in 1s");
        assert_eq!(p[0].actions, ["log.build", "log.ci"]);
        assert_eq!(
            (p[1].shape.as_str(), p[1].count),
            ("task <id> lost its lease", 2)
        );
        assert_eq!((p[2].shape.as_str(), p[2].count), ("Deployed", 1));
    }

    #[test]
    fn a_spike_is_flagged_and_a_dip_too() {
        let mut series = vec![10.0, 11.0, 9.0, 10.0, 10.0, 11.0, 9.0, 10.0];
        series.push(40.0);
        series.push(10.0);
        let o = outliers(&series, 8, 3.0, 0.0);
        assert_eq!(o.len(), 1, "{o:?}");
        assert_eq!(o[0].index, 8);
        assert!(o[0].score > 3.0);
        let dip = outliers(&[10.0, 10.0, 10.0, 10.0, 0.0], 8, 3.0, 0.0);
        assert_eq!(dip.len(), 1);
        assert!(dip[0].score < -3.0);
    }

    proptest! {
        /// A steady series (a level with noise within 5% of it) has no anomaly at 3 sigma.
        #[test]
        fn a_steady_series_has_no_anomaly(
            level in 1.0f64..10_000.0,
            noise in proptest::collection::vec(-0.05f64..0.05, 10..200),
            window in 3usize..50,
        ) {
            let series: Vec<f64> = noise.iter().map(|n| level * (1.0 + n)).collect();
            prop_assert!(outliers(&series, window, 3.0, 0.0).is_empty());
        }

        /// A spike of at least double the level, anywhere after the first few points, is
        /// flagged at 3 sigma, whatever the steady noise around it.
        #[test]
        fn a_spike_in_a_steady_series_is_flagged(
            level in 1.0f64..10_000.0,
            noise in proptest::collection::vec(-0.05f64..0.05, 10..200),
            at in 3usize..10,
            factor in 2.0f64..50.0,
            window in 3usize..50,
        ) {
            let mut series: Vec<f64> = noise.iter().map(|n| level * (1.0 + n)).collect();
            series[at] = level * factor;
            let found = outliers(&series, window, 3.0, 0.0);
            prop_assert!(found.iter().any(|o| o.index == at), "{found:?}");
        }
    }
}
