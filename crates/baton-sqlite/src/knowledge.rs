//! Rows of the knowledge base: docs, their versions and task links, full-text search.
//! `SqliteTx` calls these inside its open transaction.

use std::collections::HashMap;

use baton_core::model::{Doc, DocType, DocVersion};
use baton_core::store::{DocMatch, DocQuery, DocSearchQuery};
use baton_core::{DocId, Error, Result, TaskId};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

use crate::map_err;
use crate::rows::{to_json_list, ts, Ts};

const DOC_COLUMNS: &str = "d.id, d.type, d.title, d.body, d.tags, d.author, d.version, \
    d.created_at, d.updated_at, d.deleted_at";
/// The same columns with the body left out, for listings.
const DOC_COLUMNS_NO_BODY: &str = "d.id, d.type, d.title, '', d.tags, d.author, d.version, \
    d.created_at, d.updated_at, d.deleted_at";

fn conversion(index: usize, e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        index,
        rusqlite::types::Type::Text,
        e.to_string().into(),
    )
}

fn doc_type(row: &Row<'_>, index: usize) -> rusqlite::Result<DocType> {
    let text: String = row.get(index)?;
    text.parse().map_err(|e: String| conversion(index, e))
}

fn json_list(row: &Row<'_>, index: usize) -> rusqlite::Result<Vec<String>> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text).map_err(|e| conversion(index, e))
}

fn doc_from_row(row: &Row<'_>) -> rusqlite::Result<Doc> {
    Ok(Doc {
        id: DocId(row.get::<_, i64>(0)? as u64),
        kind: doc_type(row, 1)?,
        title: row.get(2)?,
        body: row.get(3)?,
        tags: json_list(row, 4)?,
        author: row.get(5)?,
        tasks: Vec::new(),
        version: row.get::<_, i64>(6)? as u32,
        created_at: row.get::<_, Ts>(7)?.0,
        updated_at: row.get::<_, Ts>(8)?.0,
        deleted_at: row.get::<_, Option<Ts>>(9)?.map(|t| t.0),
    })
}

pub(crate) fn placeholders(n: usize) -> String {
    vec!["?"; n.max(1)].join(", ")
}

/// Fills in each doc's linked tasks.
fn link_tasks(conn: &Connection, docs: &mut [Doc]) -> Result<()> {
    if docs.is_empty() {
        return Ok(());
    }
    let mut by_doc: HashMap<u64, Vec<TaskId>> = HashMap::new();
    for chunk in docs.chunks(500) {
        let sql = format!(
            "SELECT doc, task FROM doc_tasks WHERE doc IN ({}) ORDER BY doc, task",
            placeholders(chunk.len())
        );
        let mut stmt = conn.prepare_cached(&sql).map_err(map_err)?;
        let rows = stmt
            .query_map(
                params_from_iter(chunk.iter().map(|d| d.id.number() as i64)),
                |r| {
                    Ok((
                        r.get::<_, i64>(0)? as u64,
                        TaskId(r.get::<_, i64>(1)? as u64),
                    ))
                },
            )
            .map_err(map_err)?;
        for row in rows {
            let (doc, task) = row.map_err(map_err)?;
            by_doc.entry(doc).or_default().push(task);
        }
    }
    for d in docs {
        d.tasks = by_doc.remove(&d.id.number()).unwrap_or_default();
    }
    Ok(())
}

fn set_doc_tasks(conn: &Connection, doc: DocId, tasks: &[TaskId]) -> Result<()> {
    let id = doc.number() as i64;
    conn.prepare_cached("DELETE FROM doc_tasks WHERE doc = ?1")
        .and_then(|mut s| s.execute([id]))
        .map_err(map_err)?;
    let mut stmt = conn
        .prepare_cached("INSERT OR IGNORE INTO doc_tasks (doc, task) VALUES (?1, ?2)")
        .map_err(map_err)?;
    for t in tasks {
        stmt.execute(params![id, t.number() as i64])
            .map_err(map_err)?;
    }
    Ok(())
}

pub fn insert_doc(conn: &Connection, d: &Doc) -> Result<DocId> {
    conn.prepare_cached(
        "INSERT INTO docs (type, title, body, tags, author, version, created_at, updated_at, \
         deleted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .and_then(|mut s| {
        s.execute(params![
            d.kind.as_str(),
            d.title,
            d.body,
            to_json_list(&d.tags),
            d.author,
            d.version as i64,
            Ts(d.created_at),
            Ts(d.updated_at),
            ts(d.deleted_at),
        ])
    })
    .map_err(map_err)?;
    let id = DocId(conn.last_insert_rowid() as u64);
    set_doc_tasks(conn, id, &d.tasks)?;
    Ok(id)
}

pub fn update_doc(conn: &Connection, d: &Doc) -> Result<()> {
    let changed = conn
        .prepare_cached(
            "UPDATE docs SET type = ?2, title = ?3, body = ?4, tags = ?5, author = ?6, \
             version = ?7, updated_at = ?8, deleted_at = ?9 WHERE id = ?1",
        )
        .and_then(|mut s| {
            s.execute(params![
                d.id.number() as i64,
                d.kind.as_str(),
                d.title,
                d.body,
                to_json_list(&d.tags),
                d.author,
                d.version as i64,
                Ts(d.updated_at),
                ts(d.deleted_at),
            ])
        })
        .map_err(map_err)?;
    if changed != 1 {
        return Err(Error::DocNotFound(d.id));
    }
    set_doc_tasks(conn, d.id, &d.tasks)
}

pub fn add_doc_version(conn: &Connection, v: &DocVersion) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO doc_versions (doc, version, type, title, body, tags, author, at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut s| {
        s.execute(params![
            v.doc.number() as i64,
            v.version as i64,
            v.kind.as_str(),
            v.title,
            v.body,
            to_json_list(&v.tags),
            v.author,
            Ts(v.at),
        ])
    })
    .map_err(map_err)?;
    Ok(())
}

pub fn docs(conn: &Connection, q: &DocQuery) -> Result<Vec<Doc>> {
    let mut conditions: Vec<String> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    if !q.include_deleted {
        conditions.push("d.deleted_at IS NULL".into());
    }
    if let Some(ids) = &q.ids {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        conditions.push(format!("d.id IN ({})", placeholders(ids.len())));
        values.extend(ids.iter().map(|id| Value::Integer(id.number() as i64)));
    }
    if let Some(kind) = q.kind {
        conditions.push("d.type = ?".into());
        values.push(Value::Text(kind.as_str().into()));
    }
    if let Some(tag) = &q.tag {
        conditions.push("EXISTS (SELECT 1 FROM json_each(d.tags) j WHERE j.value = ?)".into());
        values.push(Value::Text(tag.clone()));
    }
    if let Some(task) = q.task {
        conditions.push("d.id IN (SELECT doc FROM doc_tasks WHERE task = ?)".into());
        values.push(Value::Integer(task.number() as i64));
    }
    let columns = if q.with_body {
        DOC_COLUMNS
    } else {
        DOC_COLUMNS_NO_BODY
    };
    let mut sql = format!("SELECT {columns} FROM docs d");
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    sql.push_str(" ORDER BY d.updated_at DESC, d.id DESC");
    if let Some(limit) = q.limit {
        sql.push_str(" LIMIT ?");
        values.push(Value::Integer(limit.min(i64::MAX as u64) as i64));
    }
    let mut stmt = conn.prepare_cached(&sql).map_err(map_err)?;
    let mut found = stmt
        .query_map(params_from_iter(values), doc_from_row)
        .map_err(map_err)?
        .collect::<rusqlite::Result<Vec<Doc>>>()
        .map_err(map_err)?;
    drop(stmt);
    link_tasks(conn, &mut found)?;
    Ok(found)
}

pub fn doc(conn: &Connection, id: DocId) -> Result<Option<Doc>> {
    let sql = format!("SELECT {DOC_COLUMNS} FROM docs d WHERE d.id = ?1");
    let found = conn
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row([id.number() as i64], doc_from_row).optional())
        .map_err(map_err)?;
    let Some(d) = found else { return Ok(None) };
    let mut one = [d];
    link_tasks(conn, &mut one)?;
    let [d] = one;
    Ok(Some(d))
}

pub fn doc_versions(conn: &Connection, id: DocId) -> Result<Vec<DocVersion>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT doc, version, type, title, body, tags, author, at FROM doc_versions \
             WHERE doc = ?1 ORDER BY version",
        )
        .map_err(map_err)?;
    let rows = stmt
        .query_map([id.number() as i64], |r| {
            Ok(DocVersion {
                doc: DocId(r.get::<_, i64>(0)? as u64),
                version: r.get::<_, i64>(1)? as u32,
                kind: doc_type(r, 2)?,
                title: r.get(3)?,
                body: r.get(4)?,
                tags: json_list(r, 5)?,
                author: r.get(6)?,
                at: r.get::<_, Ts>(7)?.0,
            })
        })
        .map_err(map_err)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map_err)
}

/// The words of a search, as the index splits them (letters, digits, `_`), at most 16.
fn words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for w in text.split(|c: char| !c.is_alphanumeric() && c != '_') {
        if !w.is_empty() && !words.iter().any(|x| x == w) && words.len() < 16 {
            words.push(w.to_string());
        }
    }
    words
}

/// Words as an FTS5 query: each quoted (so no word is read as syntax), joined with `AND`
/// or `OR`.
fn fts_query(words: &[String], join: &str) -> String {
    words
        .iter()
        .map(|w| format!("\"{w}\""))
        .collect::<Vec<_>>()
        .join(join)
}

/// How many docs hold the word (deleted ones included). Counting is cheap next to ranking:
/// it reads the word's doc list without scoring each doc.
fn doc_frequency(conn: &Connection, word: &str) -> Result<i64> {
    conn.prepare_cached("SELECT count(*) FROM docs_fts WHERE docs_fts MATCH ?1")
        .and_then(|mut s| s.query_row([fts_query(&[word.to_string()], "")], |r| r.get(0)))
        .map_err(map_err)
}

/// A word in more than this many docs (and in more than half of them) is common: see
/// [`search_docs`]. Below it, ranking every match is cheap anyway.
const COMMON_OVER: i64 = 500;

/// Every word must match; when no doc holds them all, any word may. Common words are left
/// out while other words remain: BM25 gives them no weight (a word in more than half the
/// docs has its IDF clamped to almost zero), yet ranking would score every doc they match.
/// When only common words are given, the newest matching docs come first, unranked.
pub fn search_docs(conn: &Connection, q: &DocSearchQuery) -> Result<Vec<DocMatch>> {
    let all_words = words(&q.text);
    if all_words.is_empty() {
        return Ok(Vec::new());
    }
    let docs: i64 = conn
        .query_row("SELECT ifnull(max(id), 0) FROM docs", [], |r| r.get(0))
        .map_err(map_err)?;
    let mut telling = Vec::new();
    let mut common = Vec::new();
    for w in all_words {
        if docs > 2 * COMMON_OVER && {
            let df = doc_frequency(conn, &w)?;
            df > COMMON_OVER && df * 2 > docs
        } {
            common.push(w);
        } else {
            telling.push(w);
        }
    }
    if telling.is_empty() {
        return search_with(conn, q, &fts_query(&common, " AND "), false);
    }
    let every = search_with(conn, q, &fts_query(&telling, " AND "), true)?;
    if !every.is_empty() || telling.len() == 1 {
        return Ok(every);
    }
    search_with(conn, q, &fts_query(&telling, " OR "), true)
}

fn search_with(
    conn: &Connection,
    q: &DocSearchQuery,
    fts: &str,
    ranked: bool,
) -> Result<Vec<DocMatch>> {
    let mut values: Vec<Value> = vec![Value::Text(fts.to_string())];
    let mut filter = String::new();
    if let Some(kind) = q.kind {
        filter.push_str(" AND d.type = ?");
        values.push(Value::Text(kind.as_str().into()));
    }
    values.push(Value::Integer(q.limit.min(i64::MAX as u64) as i64));
    // Rank first, then build snippets for the winners only: a snippet costs far more than
    // a score, and a common word can match thousands of docs. CROSS JOIN keeps the index
    // as the outer loop; with docs outside, the match would run again for every doc.
    let (rank, order) = if ranked {
        ("docs_fts.rank", "docs_fts.rank")
    } else {
        ("0.0", "docs_fts.rowid DESC")
    };
    let sql = format!(
        "WITH best AS ( \
           SELECT docs_fts.rowid AS id, {rank} AS rank \
           FROM docs_fts CROSS JOIN docs d ON d.id = docs_fts.rowid \
           WHERE docs_fts MATCH ?1 AND d.deleted_at IS NULL{filter} \
           ORDER BY {order} LIMIT ?) \
         SELECT {DOC_COLUMNS}, -best.rank, \
           snippet(docs_fts, 1, '**', '**', '…', 16) \
         FROM best CROSS JOIN docs_fts ON docs_fts.rowid = best.id \
         CROSS JOIN docs d ON d.id = best.id \
         WHERE docs_fts MATCH ?1 ORDER BY best.rank, best.id DESC"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(map_err)?;
    let mut found: Vec<(Doc, f64, String)> = stmt
        .query_map(params_from_iter(values), |r| {
            Ok((
                doc_from_row(r)?,
                r.get::<_, f64>(10)?,
                r.get::<_, String>(11)?,
            ))
        })
        .map_err(map_err)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(map_err)?;
    drop(stmt);
    let mut docs: Vec<Doc> = found.iter().map(|(d, _, _)| d.clone()).collect();
    link_tasks(conn, &mut docs)?;
    Ok(found
        .drain(..)
        .zip(docs)
        .map(|((_, score, snippet), doc)| DocMatch {
            doc,
            score,
            snippet,
        })
        .collect())
}
