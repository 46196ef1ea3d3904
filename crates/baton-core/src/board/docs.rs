//! The knowledge base: write, update (every version kept), soft delete, list, search; and
//! the check that a task's context_refs name docs that exist.

use serde_json::json;

use super::{event, load, touch, validate};
use crate::api::{DocFilter, DocPatch, DocSearch, NewDoc};
use crate::error::{Error, Result};
use crate::id::{DocId, TaskId};
use crate::model::{actions, Doc, DocHit, DocSummary, DocVersion};
use crate::store::{DocQuery, DocSearchQuery, StoreTx};
use crate::time::Timestamp;

/// A doc body may hold up to 1 MiB of text.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
pub const DEFAULT_SEARCH_LIMIT: u64 = 10;
pub const MAX_SEARCH_LIMIT: u64 = 100;

fn title(text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::invalid_with_hint(
            "a doc needs a title",
            "pass --title \"...\"",
        ));
    }
    if text.contains(['\n', '\r']) {
        return Err(Error::invalid("a title is one line"));
    }
    let chars = text.chars().count();
    if chars > validate::MAX_TITLE_CHARS {
        return Err(Error::invalid(format!(
            "title is {chars} characters; the limit is {}",
            validate::MAX_TITLE_CHARS
        )));
    }
    Ok(())
}

fn body(text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::invalid_with_hint(
            "a doc needs a body",
            "pass --body \"...\", --body-file FILE, or pipe it on stdin",
        ));
    }
    if text.len() > MAX_BODY_BYTES {
        return Err(Error::invalid_with_hint(
            format!(
                "the body is {} bytes; a doc holds at most {MAX_BODY_BYTES} bytes (1 MiB)",
                text.len()
            ),
            "split it into several docs, or keep the file in the repository and write a doc that points to it",
        ));
    }
    Ok(())
}

fn tags(items: Vec<String>) -> Result<Vec<String>> {
    let mut tags: Vec<String> = items.into_iter().map(|t| t.trim().to_string()).collect();
    validate::list("tags", &tags)?;
    let mut seen = std::collections::HashSet::new();
    tags.retain(|t| seen.insert(t.clone()));
    Ok(tags)
}

fn dedup(ids: Vec<TaskId>) -> Vec<TaskId> {
    let mut seen = std::collections::HashSet::new();
    ids.into_iter().filter(|id| seen.insert(*id)).collect()
}

/// Checks a new doc before any transaction starts.
pub fn check_new(mut doc: NewDoc) -> Result<NewDoc> {
    doc.title = doc.title.trim().to_string();
    title(&doc.title)?;
    body(&doc.body)?;
    doc.tags = tags(doc.tags)?;
    doc.tasks = dedup(doc.tasks);
    if doc.tasks.len() > validate::MAX_LIST_ITEMS {
        return Err(Error::invalid("a doc links to at most 200 tasks"));
    }
    if let Some(author) = &doc.author {
        validate::actor(author)?;
    }
    Ok(doc)
}

pub fn check_patch(mut patch: DocPatch) -> Result<DocPatch> {
    if patch.is_empty() {
        return Err(Error::invalid_with_hint(
            "nothing to update",
            "pass at least one of --title, --body, --body-file, --type, --tags, --task",
        ));
    }
    if let Some(t) = &mut patch.title {
        *t = t.trim().to_string();
        title(t)?;
    }
    if let Some(b) = &patch.body {
        body(b)?;
    }
    if let Some(t) = patch.tags.take() {
        patch.tags = Some(tags(t)?);
    }
    if let Some(t) = patch.tasks.take() {
        patch.tasks = Some(dedup(t));
    }
    Ok(patch)
}

/// Normalizes context_refs to doc ids (`d-3` -> `D-3`); anything else is refused.
pub fn normalize_refs(refs: Vec<String>) -> Result<Vec<String>> {
    refs.into_iter()
        .map(|r| {
            r.parse::<DocId>().map(|id| id.to_string()).map_err(|_| {
                Error::invalid_with_hint(
                    format!("context ref '{r}' is not a doc id"),
                    "context_refs name knowledge-base docs (D-1, D-2, ...); see `baton docs list`",
                )
            })
        })
        .collect()
}

/// Every doc a task's context_refs name exists and is not deleted.
pub fn check_refs(tx: &mut dyn StoreTx, refs: &[String]) -> Result<()> {
    if refs.is_empty() {
        return Ok(());
    }
    let ids: Vec<DocId> = normalize_refs(refs.to_vec())?
        .iter()
        .filter_map(|r| r.parse().ok())
        .collect();
    let found = tx.docs(&DocQuery {
        ids: Some(ids.clone()),
        include_deleted: true,
        ..DocQuery::default()
    })?;
    for id in ids {
        match found.iter().find(|d| d.id == id) {
            None => {
                return Err(Error::invalid_with_hint(
                    format!("context ref {id} names no doc"),
                    "write the doc first (`baton docs write`), or list docs with `baton docs list`",
                ))
            }
            Some(d) if d.deleted_at.is_some() => {
                return Err(Error::invalid(format!(
                    "context ref {id} names a deleted doc"
                )))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn check_tasks(tx: &mut dyn StoreTx, tasks: &[TaskId]) -> Result<()> {
    let known = tx.existing(tasks)?;
    for id in tasks {
        match known.iter().find(|(k, _)| k == id) {
            None => return Err(Error::TaskNotFound(*id)),
            Some((_, true)) => {
                return Err(Error::invalid(format!(
                    "task {id} was deleted; a doc cannot be linked to it"
                )))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

pub fn version_of(doc: &Doc, author: &str, at: Timestamp) -> DocVersion {
    DocVersion {
        doc: doc.id,
        version: doc.version,
        kind: doc.kind,
        title: doc.title.clone(),
        body: doc.body.clone(),
        tags: doc.tags.clone(),
        author: author.to_string(),
        at,
    }
}

/// Stores a doc as version 1 with its history entry; returns it with its id.
pub fn insert(tx: &mut dyn StoreTx, mut doc: Doc) -> Result<Doc> {
    doc.id = tx.insert_doc(&doc)?;
    tx.add_doc_version(&version_of(&doc, &doc.author.clone(), doc.created_at))?;
    Ok(doc)
}

pub fn write(tx: &mut dyn StoreTx, actor: &str, new: NewDoc, now: Timestamp) -> Result<Doc> {
    touch(tx, actor, now)?;
    check_tasks(tx, &new.tasks)?;
    let doc = insert(
        tx,
        Doc {
            id: DocId(0),
            kind: new.kind,
            title: new.title,
            body: new.body,
            tags: new.tags,
            author: new.author.unwrap_or_else(|| actor.to_string()),
            tasks: new.tasks,
            version: 1,
            created_at: now,
            updated_at: now,
            deleted_at: None,
        },
    )?;
    event(
        tx,
        now,
        actor,
        actions::DOC_CREATED,
        doc.tasks.first().copied(),
        json!({ "doc": doc.id, "type": doc.kind, "title": doc.title, "version": 1 }),
    )?;
    Ok(doc)
}

pub fn get(tx: &mut dyn StoreTx, id: DocId) -> Result<Doc> {
    tx.doc(id)?.ok_or(Error::DocNotFound(id))
}

fn get_live(tx: &mut dyn StoreTx, id: DocId) -> Result<Doc> {
    let doc = get(tx, id)?;
    if let Some(at) = doc.deleted_at {
        return Err(Error::Conflict {
            code: "doc_deleted",
            message: format!("doc {id} was deleted at {at}"),
            hint: Some("deleted docs stay readable (`baton docs read`) but cannot change".into()),
        });
    }
    Ok(doc)
}

pub fn update(
    tx: &mut dyn StoreTx,
    actor: &str,
    id: DocId,
    patch: DocPatch,
    now: Timestamp,
) -> Result<Doc> {
    touch(tx, actor, now)?;
    let mut doc = get_live(tx, id)?;
    let mut changed: Vec<&str> = Vec::new();
    let mut set = |field: &'static str, differs: bool| {
        if differs {
            changed.push(field);
        }
        differs
    };
    if let Some(v) = patch.kind {
        if set("type", v != doc.kind) {
            doc.kind = v;
        }
    }
    if let Some(v) = patch.title {
        if set("title", v != doc.title) {
            doc.title = v;
        }
    }
    if let Some(v) = patch.body {
        if set("body", v != doc.body) {
            doc.body = v;
        }
    }
    if let Some(v) = patch.tags {
        if set("tags", v != doc.tags) {
            doc.tags = v;
        }
    }
    if let Some(v) = patch.tasks {
        if set("tasks", v != doc.tasks) {
            check_tasks(tx, &v)?;
            doc.tasks = v;
        }
    }
    if changed.is_empty() {
        return Ok(doc);
    }
    doc.version += 1;
    doc.updated_at = now;
    tx.update_doc(&doc)?;
    tx.add_doc_version(&version_of(&doc, actor, now))?;
    event(
        tx,
        now,
        actor,
        actions::DOC_UPDATED,
        doc.tasks.first().copied(),
        json!({ "doc": doc.id, "version": doc.version, "changed": changed }),
    )?;
    Ok(doc)
}

pub fn delete(tx: &mut dyn StoreTx, actor: &str, id: DocId, now: Timestamp) -> Result<Doc> {
    touch(tx, actor, now)?;
    let mut doc = get_live(tx, id)?;
    doc.deleted_at = Some(now);
    tx.update_doc(&doc)?;
    event(
        tx,
        now,
        actor,
        actions::DOC_DELETED,
        None,
        json!({ "doc": doc.id, "title": doc.title }),
    )?;
    Ok(doc)
}

pub fn history(tx: &mut dyn StoreTx, id: DocId) -> Result<Vec<DocVersion>> {
    get(tx, id)?;
    tx.doc_versions(id)
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

pub fn list(tx: &mut dyn StoreTx, filter: &DocFilter) -> Result<Vec<DocSummary>> {
    let limit = filter.limit.filter(|l| *l > 0);
    let query = DocQuery {
        kind: filter.kind,
        tag: non_empty(&filter.tag),
        include_deleted: filter.include_deleted,
        ..DocQuery::default()
    };
    let docs = match filter.task {
        None => tx.docs(&DocQuery { limit, ..query })?,
        Some(task) => {
            // Linked to the task, or named in its context_refs.
            let refs: Vec<DocId> = load(tx, task)?
                .task
                .context_refs
                .iter()
                .filter_map(|r| r.parse().ok())
                .collect();
            let mut docs = tx.docs(&DocQuery {
                task: Some(task),
                ..query.clone()
            })?;
            if !refs.is_empty() {
                for d in tx.docs(&DocQuery {
                    ids: Some(refs),
                    ..query
                })? {
                    if !docs.iter().any(|x| x.id == d.id) {
                        docs.push(d);
                    }
                }
            }
            docs.sort_by_key(|d| std::cmp::Reverse((d.updated_at, d.id)));
            if let Some(l) = limit {
                docs.truncate(l as usize);
            }
            docs
        }
    };
    Ok(docs.iter().map(DocSummary::from).collect())
}

pub fn search_query(search: &DocSearch) -> Result<DocSearchQuery> {
    let text = search.query.trim();
    if !text.chars().any(char::is_alphanumeric) {
        return Err(Error::invalid_with_hint(
            "the search needs at least one word",
            "for example: baton docs search \"token refresh\"",
        ));
    }
    if text.len() > validate::MAX_ITEM_CHARS {
        return Err(Error::invalid(format!(
            "the search is longer than {} characters",
            validate::MAX_ITEM_CHARS
        )));
    }
    let limit = match search.limit {
        None | Some(0) => DEFAULT_SEARCH_LIMIT,
        Some(l) => l.min(MAX_SEARCH_LIMIT),
    };
    Ok(DocSearchQuery {
        text: text.to_string(),
        kind: search.kind,
        limit,
    })
}

pub fn search(tx: &mut dyn StoreTx, query: &DocSearchQuery) -> Result<Vec<DocHit>> {
    Ok(tx
        .search_docs(query)?
        .into_iter()
        .map(|m| DocHit {
            doc: DocSummary::from(&m.doc),
            score: m.score,
            snippet: m.snippet,
        })
        .collect())
}
