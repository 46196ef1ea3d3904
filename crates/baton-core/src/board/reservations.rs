//! File reservations: advisory locks on globs. Exclusive conflicts with any overlapping
//! reservation of another agent; shared conflicts only with exclusive ones.

use std::time::Duration;

use serde_json::json;

use super::{event, leases};
use crate::api::{
    FileChange, FileChangeReport, GuardReport, ReleaseRequest, ReservationFilter, ReserveRequest,
};
use crate::error::{Error, Result};
use crate::glob::{normalize_path, Glob};
use crate::id::TaskId;
use crate::model::{actions, PathCheck, Reservation, ReservationMode, Status};
use crate::store::{NewReservation, ReservationQuery, StoreTx};
use crate::time::{parse_duration, Timestamp};

pub const MAX_GLOBS: usize = 100;

pub fn compile(text: &str) -> Result<Glob> {
    Glob::new(text).map_err(|e| {
        Error::invalid_with_hint(
            e.to_string(),
            "globs follow gitignore rules: src/auth/**, *.rs, docs/, src/[ab]*.ts",
        )
    })
}

/// The directories whose reservations can overlap a glob with this prefix: the prefix
/// itself and its ancestors (`src/auth/` -> `""`, `src/`, `src/auth/`).
fn ancestors(prefix: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut acc = String::new();
    for seg in prefix.split('/').filter(|s| !s.is_empty()) {
        acc.push_str(seg);
        acc.push('/');
        out.push(acc.clone());
    }
    out
}

/// Live reservations of other agents that collide with holding `glob` in `mode`.
pub fn conflicts(
    tx: &mut dyn StoreTx,
    agent: &str,
    glob: &Glob,
    mode: ReservationMode,
    now: Timestamp,
) -> Result<Vec<Reservation>> {
    let candidates = tx.reservations(&ReservationQuery {
        active_at: Some(now),
        not_agent: Some(agent.to_string()),
        prefixes: Some((ancestors(glob.prefix()), glob.prefix().to_string())),
        ..ReservationQuery::default()
    })?;
    let mut hits = Vec::new();
    for r in candidates {
        if !mode.conflicts_with(r.mode) {
            continue;
        }
        // A stored glob was valid when written; one that no longer compiles is skipped.
        if let Ok(theirs) = Glob::new(&r.glob) {
            if glob.overlap(&theirs).is_some() {
                hits.push(r);
            }
        }
    }
    Ok(hits)
}

pub fn describe(r: &Reservation) -> String {
    let task = r.task.map(|t| format!(" for {t}")).unwrap_or_default();
    format!(
        "{} held by {} ({}{task}, until {})",
        r.glob,
        r.agent,
        r.mode.as_str(),
        r.expires_at
    )
}

fn conflict_error(pairs: &[(String, Reservation)]) -> Error {
    let listed: Vec<String> = pairs
        .iter()
        .map(|(mine, r)| format!("{mine} overlaps {}", describe(r)))
        .collect();
    Error::Conflict {
        code: "reservation_conflict",
        message: format!("reserved by another agent: {}", listed.join("; ")),
        hint: Some(
            "wait for it to be released or expire, narrow your globs, or ask its holder".into(),
        ),
    }
}

fn ttl(tx: &mut dyn StoreTx, requested: Option<&str>) -> Result<Duration> {
    match requested {
        None => leases::lease_ttl(tx),
        Some(text) => match parse_duration(text) {
            Some(d) if d >= Duration::from_secs(1) && d <= Duration::from_secs(7 * 86_400) => Ok(d),
            _ => Err(Error::invalid_with_hint(
                format!("'{text}' is not a reservation TTL"),
                "use a duration from 1s to 7d, such as 90s, 30m or 2h",
            )),
        },
    }
}

pub fn reserve(
    tx: &mut dyn StoreTx,
    agent: &str,
    request: ReserveRequest,
    now: Timestamp,
) -> Result<Vec<Reservation>> {
    if request.globs.is_empty() || request.globs.len() > MAX_GLOBS {
        return Err(Error::invalid(format!(
            "give 1 to {MAX_GLOBS} globs to reserve"
        )));
    }
    if let Some(reason) = &request.reason {
        if reason.chars().count() > 1000 {
            return Err(Error::invalid("the reason is longer than 1000 characters"));
        }
    }
    let globs = request
        .globs
        .iter()
        .map(|g| compile(g))
        .collect::<Result<Vec<Glob>>>()?;
    if let Some(task) = request.task {
        super::load_live(tx, task)?;
    }
    let ttl = ttl(tx, request.ttl.as_deref())?;
    let mut clashes = Vec::new();
    for glob in &globs {
        for r in conflicts(tx, agent, glob, request.mode, now)? {
            clashes.push((glob.to_string(), r));
        }
    }
    if !clashes.is_empty() {
        return Err(conflict_error(&clashes));
    }
    // Reserving a glob again replaces the earlier reservation of it.
    let mine = tx.reservations(&ReservationQuery {
        agent: Some(agent.to_string()),
        ..ReservationQuery::default()
    })?;
    let replaced: Vec<u64> = mine
        .iter()
        .filter(|r| globs.iter().any(|g| g.as_str() == r.glob))
        .map(|r| r.id)
        .collect();
    tx.delete_reservations(&replaced)?;
    let mut out = Vec::new();
    for glob in globs {
        let r = tx.insert_reservation(&NewReservation {
            agent: agent.to_string(),
            glob: glob.to_string(),
            prefix: glob.prefix().to_string(),
            mode: request.mode,
            task: request.task,
            reason: request.reason.clone(),
            created_at: now,
            expires_at: now.plus(ttl),
            ttl_ms: ttl.as_millis() as u64,
        })?;
        event(
            tx,
            now,
            agent,
            actions::RESERVATION_CREATED,
            r.task,
            json!({ "glob": r.glob, "mode": r.mode, "expires_at": r.expires_at }),
        )?;
        out.push(r);
    }
    Ok(out)
}

pub fn release(
    tx: &mut dyn StoreTx,
    agent: &str,
    request: ReleaseRequest,
    now: Timestamp,
) -> Result<Vec<Reservation>> {
    if request.globs.is_empty() && !request.all {
        return Err(Error::invalid_with_hint(
            "nothing to release",
            "name the globs you reserved, or pass --all",
        ));
    }
    let mine = tx.reservations(&ReservationQuery {
        agent: Some(agent.to_string()),
        ..ReservationQuery::default()
    })?;
    let chosen: Vec<Reservation> = if request.all && request.with_task_surfaces {
        mine
    } else if request.all {
        let mut chosen = Vec::with_capacity(mine.len());
        for r in mine {
            if !held_task_surface(tx, agent, &r)? {
                chosen.push(r);
            }
        }
        chosen
    } else {
        let wanted: Vec<String> = request.globs.iter().map(|g| g.trim().to_string()).collect();
        if let Some(missing) = wanted.iter().find(|w| !mine.iter().any(|r| &r.glob == *w)) {
            let held: Vec<&str> = mine.iter().map(|r| r.glob.as_str()).collect();
            return Err(Error::Conflict {
                code: "reservation_not_found",
                message: format!("{agent} holds no reservation of '{missing}'"),
                hint: Some(if held.is_empty() {
                    "you hold no reservations".to_string()
                } else {
                    format!("yours: {}", held.join(", "))
                }),
            });
        }
        mine.into_iter()
            .filter(|r| wanted.contains(&r.glob))
            .collect()
    };
    let ids: Vec<u64> = chosen.iter().map(|r| r.id).collect();
    tx.delete_reservations(&ids)?;
    for r in &chosen {
        event(
            tx,
            now,
            agent,
            actions::RESERVATION_RELEASED,
            r.task,
            json!({ "glob": r.glob, "mode": r.mode }),
        )?;
    }
    Ok(chosen)
}

/// Drops the reservations a task's claim took; returns their globs.
/// Whether `r` is part of a task `agent` holds in progress: `release --all` keeps those.
fn held_task_surface(tx: &mut dyn StoreTx, agent: &str, r: &Reservation) -> Result<bool> {
    let Some(id) = r.task else {
        return Ok(false);
    };
    let task = match super::load_live(tx, id) {
        Ok(record) => record.task,
        Err(Error::TaskNotFound(_)) => return Ok(false),
        Err(e) => return Err(e),
    };
    Ok(task.status == Status::InProgress && task.assignee.as_deref() == Some(agent))
}

pub fn release_task_surface(tx: &mut dyn StoreTx, task: TaskId) -> Result<Vec<String>> {
    let held = tx.reservations(&ReservationQuery {
        task: Some(task),
        ..ReservationQuery::default()
    })?;
    let ids: Vec<u64> = held.iter().map(|r| r.id).collect();
    tx.delete_reservations(&ids)?;
    Ok(held.into_iter().map(|r| r.glob).collect())
}

/// Reserves a task's surface for its new holder (exclusive, for the lease's term).
pub fn reserve_task_surface(
    tx: &mut dyn StoreTx,
    agent: &str,
    task: TaskId,
    globs: &[Glob],
    until: Timestamp,
    now: Timestamp,
) -> Result<()> {
    release_task_surface(tx, task)?;
    for glob in globs {
        tx.insert_reservation(&NewReservation {
            agent: agent.to_string(),
            glob: glob.to_string(),
            prefix: glob.prefix().to_string(),
            mode: ReservationMode::Exclusive,
            task: Some(task),
            reason: Some(format!("surface of {task}")),
            created_at: now,
            expires_at: until,
            ttl_ms: until.unix_millis().saturating_sub(now.unix_millis()) as u64,
        })?;
    }
    Ok(())
}

fn covering(tx: &mut dyn StoreTx, path: &str, now: Timestamp) -> Result<Vec<Reservation>> {
    let dir = format!("{path}/");
    let candidates = tx.reservations(&ReservationQuery {
        active_at: Some(now),
        prefixes: Some((ancestors(&dir), dir.clone())),
        ..ReservationQuery::default()
    })?;
    Ok(candidates
        .into_iter()
        .filter(|r| Glob::new(&r.glob).is_ok_and(|g| g.matches(path)))
        .collect())
}

pub fn list(
    tx: &mut dyn StoreTx,
    filter: &ReservationFilter,
    now: Timestamp,
) -> Result<Vec<Reservation>> {
    match &filter.path {
        Some(path) => {
            let path = normalize_path(path);
            let mut found = covering(tx, &path, now)?;
            if let Some(agent) = &filter.agent {
                found.retain(|r| &r.agent == agent);
            }
            Ok(found)
        }
        None => tx.reservations(&ReservationQuery {
            active_at: Some(now),
            agent: filter.agent.clone(),
            ..ReservationQuery::default()
        }),
    }
}

pub fn check(tx: &mut dyn StoreTx, paths: &[String], now: Timestamp) -> Result<Vec<PathCheck>> {
    paths
        .iter()
        .map(|p| {
            let path = normalize_path(p);
            if path.is_empty() {
                return Err(Error::invalid(format!("'{p}' is not a path")));
            }
            Ok(PathCheck {
                reservations: covering(tx, &path, now)?,
                path,
            })
        })
        .collect()
}

/// Exclusive reservations of others block a commit; shared ones are only reported.
pub fn guard(
    tx: &mut dyn StoreTx,
    committer: Option<&str>,
    paths: &[String],
    now: Timestamp,
) -> Result<GuardReport> {
    let checks = check(tx, paths, now)?;
    let others = |r: &Reservation| committer != Some(r.agent.as_str());
    let mut blocked = Vec::new();
    let mut shared = Vec::new();
    for c in checks {
        let (excl, shr): (Vec<Reservation>, Vec<Reservation>) = c
            .reservations
            .into_iter()
            .filter(others)
            .partition(|r| r.mode == ReservationMode::Exclusive);
        for r in &excl {
            blocked.push(format!("{} ({})", c.path, describe(r)));
        }
        if !shr.is_empty() {
            shared.push(PathCheck {
                path: c.path,
                reservations: shr,
            });
        }
    }
    if !blocked.is_empty() {
        return Err(Error::Conflict {
            code: "reservation_conflict",
            message: format!(
                "this commit touches files reserved by another agent: {}",
                blocked.join("; ")
            ),
            hint: Some(
                "ask the holder (`baton check PATH` shows who), unstage those files, or bypass with git commit --no-verify"
                    .into(),
            ),
        });
    }
    Ok(GuardReport {
        checked: paths.len() as u64,
        shared,
    })
}

/// The most duplicates one change may name.
const MAX_DUPLICATES: usize = 100;

/// A change's move source, hash and duplicates, normalized and checked.
fn check_change(change: &FileChange) -> Result<(Option<String>, Option<String>, Vec<String>)> {
    let from = change
        .from
        .as_deref()
        .map(normalize_path)
        .filter(|f| !f.is_empty());
    let sha256 = match change.sha256.as_deref() {
        None => None,
        Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(h.to_ascii_lowercase())
        }
        Some(h) => {
            return Err(Error::invalid_with_hint(
                format!("'{h}' is not a SHA-256"),
                "give the content's SHA-256 as 64 hex digits, or leave it out",
            ))
        }
    };
    if change.duplicates.len() > MAX_DUPLICATES {
        return Err(Error::invalid_with_hint(
            format!(
                "{} duplicates named for {}; at most {MAX_DUPLICATES}",
                change.duplicates.len(),
                change.path
            ),
            "name the first 100",
        ));
    }
    let mut duplicates: Vec<String> = change
        .duplicates
        .iter()
        .map(|d| normalize_path(d))
        .filter(|d| !d.is_empty())
        .collect();
    duplicates.sort();
    duplicates.dedup();
    Ok((from, sha256, duplicates))
}

pub fn record_changes(
    tx: &mut dyn StoreTx,
    editor: Option<&str>,
    changes: &[FileChange],
    now: Timestamp,
) -> Result<Vec<FileChangeReport>> {
    let mut reports = Vec::new();
    // Each holder whose reserved files someone else changed: what, for one message.
    let mut told: std::collections::BTreeMap<(String, Option<TaskId>), Vec<String>> =
        std::collections::BTreeMap::new();
    for change in changes {
        let path = normalize_path(&change.path);
        if path.is_empty() {
            continue;
        }
        let (from, sha256, duplicates) = check_change(change)?;
        let mut holders = covering(tx, &path, now)?;
        // Moving a file out of a reserved place changes that place too.
        if let Some(from) = &from {
            for r in covering(tx, from, now)? {
                if !holders.iter().any(|h| h.id == r.id) {
                    holders.push(r);
                }
            }
        }
        let actor = match editor {
            Some(e) => e.to_string(),
            None => {
                let mut agents: Vec<&str> = holders.iter().map(|r| r.agent.as_str()).collect();
                agents.dedup();
                match agents.as_slice() {
                    [one] => one.to_string(),
                    _ => "unknown".to_string(),
                }
            }
        };
        let violated: Vec<Reservation> = match editor {
            Some(e) => holders
                .into_iter()
                .filter(|r| r.agent != e && r.mode == ReservationMode::Exclusive)
                .collect(),
            None => Vec::new(),
        };
        let mut detail = json!({ "path": path, "kind": change.kind });
        if let Some(from) = &from {
            detail["from"] = json!(from);
        }
        if let Some(hash) = &sha256 {
            detail["sha256"] = json!(hash);
        }
        if !duplicates.is_empty() {
            detail["duplicates"] = json!(duplicates);
        }
        event(tx, now, &actor, actions::FILE_CHANGED, None, detail)?;
        for r in &violated {
            event(
                tx,
                now,
                &actor,
                actions::RESERVATION_VIOLATED,
                r.task,
                json!({ "path": path, "glob": r.glob, "holder": r.agent, "kind": change.kind }),
            )?;
            let what = format!("{path} ({}, under your {})", change.kind, r.glob);
            let list = told.entry((r.agent.clone(), r.task)).or_default();
            if !list.contains(&what) {
                list.push(what);
            }
        }
        reports.push(FileChangeReport {
            path,
            kind: change.kind.clone(),
            from,
            sha256,
            duplicates,
            actor,
            violated,
        });
    }
    if let Some(editor) = editor {
        for ((holder, task), paths) in told {
            tell_holder(tx, editor, &holder, task, &paths, now)?;
        }
    }
    Ok(reports)
}

/// A message to `holder` that `editor` changed files it reserved, so it hears of it where
/// it looks (its inbox, `listen`) and can answer the editor there.
fn tell_holder(
    tx: &mut dyn StoreTx,
    editor: &str,
    holder: &str,
    task: Option<TaskId>,
    paths: &[String],
    now: Timestamp,
) -> Result<()> {
    const SHOWN: usize = 10;
    let mut body = format!(
        "{editor} changed files you reserved: {}",
        paths
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    );
    if paths.len() > SHOWN {
        body.push_str(&format!(" and {} more", paths.len() - SHOWN));
    }
    body.push_str(". Check the change before you commit; answer here to reach them.");
    let message = tx.insert_message(&crate::store::NewMessage {
        from: editor.to_string(),
        to: holder.to_string(),
        task,
        body,
        reply_to: None,
        thread: None,
        created_at: now,
    })?;
    event(
        tx,
        now,
        editor,
        actions::MESSAGE_ASKED,
        task,
        json!({ "message": message.id, "to": message.to, "about": "reservation_violated" }),
    )?;
    Ok(())
}
