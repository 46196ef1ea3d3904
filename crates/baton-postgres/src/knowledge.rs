//! Rows of the knowledge base: docs, their versions and task links, full-text search with
//! `tsvector` ranking (see the `search` column in the migration).

use std::collections::HashMap;

use baton_core::model::{Doc, DocType, DocVersion};
use baton_core::store::{DocMatch, DocQuery, DocSearchQuery};
use baton_core::{DocId, Error, Result, TaskId};
use postgres::Row;

use crate::params::Params;
use crate::rows::{get, json_list, opt_timestamp, opt_ts_text, timestamp, to_json_list, ts_text};
use crate::tx::PgTx;

const DOC_COLUMNS: &str = "d.id, d.type, d.title, d.body, d.tags, d.author, d.version, \
    d.created_at, d.updated_at, d.deleted_at";
/// The same columns with the body left out, for listings.
const DOC_COLUMNS_NO_BODY: &str = "d.id, d.type, d.title, '', d.tags, d.author, d.version, \
    d.created_at, d.updated_at, d.deleted_at";

/// How an excerpt is cut: matches marked `**like this**`, about 16 words around them.
const HEADLINE: &str =
    "StartSel=**, StopSel=**, MaxWords=16, MinWords=8, MaxFragments=1, FragmentDelimiter=…";

fn doc_type(row: &Row, index: usize) -> Result<DocType> {
    let text: String = get(row, index)?;
    text.parse()
        .map_err(|e: String| Error::Internal(format!("unreadable doc type in the database: {e}")))
}

fn doc_from_row(row: &Row) -> Result<Doc> {
    Ok(Doc {
        id: DocId(get::<i64>(row, 0)? as u64),
        kind: doc_type(row, 1)?,
        title: get(row, 2)?,
        body: get(row, 3)?,
        tags: json_list(row, 4)?,
        author: get(row, 5)?,
        tasks: Vec::new(),
        version: get::<i64>(row, 6)? as u32,
        created_at: timestamp(row, 7)?,
        updated_at: timestamp(row, 8)?,
        deleted_at: opt_timestamp(row, 9)?,
    })
}

/// The words of a search as plain text (letters, digits, `_`), at most 16, so nothing in
/// the request is read as query syntax.
fn words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for w in text.split(|c: char| !c.is_alphanumeric() && c != '_') {
        if !w.is_empty() && !words.iter().any(|x| x == w) && words.len() < 16 {
            words.push(w.to_string());
        }
    }
    words
}

impl PgTx<'_> {
    /// Fills in each doc's linked tasks.
    fn link_tasks(&mut self, docs: &mut [Doc]) -> Result<()> {
        if docs.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = docs.iter().map(|d| d.id.number() as i64).collect();
        let mut by_doc: HashMap<u64, Vec<TaskId>> = HashMap::new();
        for row in self.query(
            "SELECT doc, task FROM doc_tasks WHERE doc = ANY($1) ORDER BY doc, task",
            &[&ids],
        )? {
            by_doc
                .entry(get::<i64>(&row, 0)? as u64)
                .or_default()
                .push(TaskId(get::<i64>(&row, 1)? as u64));
        }
        for d in docs {
            d.tasks = by_doc.remove(&d.id.number()).unwrap_or_default();
        }
        Ok(())
    }

    fn set_doc_tasks(&mut self, doc: DocId, tasks: &[TaskId]) -> Result<()> {
        let id = doc.number() as i64;
        self.execute("DELETE FROM doc_tasks WHERE doc = $1", &[&id])?;
        if tasks.is_empty() {
            return Ok(());
        }
        let tasks: Vec<i64> = tasks.iter().map(|t| t.number() as i64).collect();
        self.execute(
            "INSERT INTO doc_tasks (doc, task) SELECT $1::bigint, t FROM unnest($2::bigint[]) t \
             ON CONFLICT DO NOTHING",
            &[&id, &tasks],
        )?;
        Ok(())
    }

    pub(crate) fn insert_doc_row(&mut self, d: &Doc) -> Result<DocId> {
        let row = self.query_one(
            "INSERT INTO docs (type, title, body, tags, author, version, created_at, updated_at, \
             deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            &[
                &d.kind.as_str(),
                &d.title,
                &d.body,
                &to_json_list(&d.tags),
                &d.author,
                &(d.version as i64),
                &ts_text(d.created_at),
                &ts_text(d.updated_at),
                &opt_ts_text(d.deleted_at),
            ],
        )?;
        let id = DocId(get::<i64>(&row, 0)? as u64);
        self.set_doc_tasks(id, &d.tasks)?;
        Ok(id)
    }

    pub(crate) fn update_doc_row(&mut self, d: &Doc) -> Result<()> {
        let changed = self.execute(
            "UPDATE docs SET type = $2, title = $3, body = $4, tags = $5, author = $6, \
             version = $7, updated_at = $8, deleted_at = $9 WHERE id = $1",
            &[
                &(d.id.number() as i64),
                &d.kind.as_str(),
                &d.title,
                &d.body,
                &to_json_list(&d.tags),
                &d.author,
                &(d.version as i64),
                &ts_text(d.updated_at),
                &opt_ts_text(d.deleted_at),
            ],
        )?;
        if changed != 1 {
            return Err(Error::DocNotFound(d.id));
        }
        self.set_doc_tasks(d.id, &d.tasks)
    }

    pub(crate) fn insert_doc_version(&mut self, v: &DocVersion) -> Result<()> {
        self.execute(
            "INSERT INTO doc_versions (doc, version, type, title, body, tags, author, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &(v.doc.number() as i64),
                &(v.version as i64),
                &v.kind.as_str(),
                &v.title,
                &v.body,
                &to_json_list(&v.tags),
                &v.author,
                &ts_text(v.at),
            ],
        )?;
        Ok(())
    }

    pub(crate) fn select_docs(&mut self, q: &DocQuery) -> Result<Vec<Doc>> {
        let mut conditions: Vec<String> = Vec::new();
        let mut params = Params::default();
        if !q.include_deleted {
            conditions.push("d.deleted_at IS NULL".into());
        }
        if let Some(ids) = &q.ids {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let ids: Vec<i64> = ids.iter().map(|id| id.number() as i64).collect();
            conditions.push(format!("d.id = ANY({})", params.push(ids)));
        }
        if let Some(kind) = q.kind {
            conditions.push(format!(
                "d.type = {}",
                params.push(kind.as_str().to_string())
            ));
        }
        if let Some(tag) = &q.tag {
            conditions.push(format!("(d.tags::jsonb) ? {}", params.push(tag.clone())));
        }
        if let Some(task) = q.task {
            conditions.push(format!(
                "d.id IN (SELECT doc FROM doc_tasks WHERE task = {})",
                params.push(task.number() as i64)
            ));
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
            let limit = limit.min(i64::MAX as u64) as i64;
            sql.push_str(&format!(" LIMIT {}", params.push(limit)));
        }
        let mut found = self
            .query(&sql, &params.refs())?
            .iter()
            .map(doc_from_row)
            .collect::<Result<Vec<Doc>>>()?;
        self.link_tasks(&mut found)?;
        Ok(found)
    }

    pub(crate) fn doc_by_id(&mut self, id: DocId) -> Result<Option<Doc>> {
        let sql = format!("SELECT {DOC_COLUMNS} FROM docs d WHERE d.id = $1");
        let Some(row) = self.query_opt(&sql, &[&(id.number() as i64)])? else {
            return Ok(None);
        };
        let mut one = [doc_from_row(&row)?];
        self.link_tasks(&mut one)?;
        let [d] = one;
        Ok(Some(d))
    }

    pub(crate) fn versions_of(&mut self, id: DocId) -> Result<Vec<DocVersion>> {
        self.query(
            "SELECT doc, version, type, title, body, tags, author, at FROM doc_versions \
             WHERE doc = $1 ORDER BY version",
            &[&(id.number() as i64)],
        )?
        .iter()
        .map(|r| {
            Ok(DocVersion {
                doc: DocId(get::<i64>(r, 0)? as u64),
                version: get::<i64>(r, 1)? as u32,
                kind: doc_type(r, 2)?,
                title: get(r, 3)?,
                body: get(r, 4)?,
                tags: json_list(r, 5)?,
                author: get(r, 6)?,
                at: timestamp(r, 7)?,
            })
        })
        .collect()
    }

    /// Every word must match; when no doc holds them all, any word may. Ranked by
    /// `ts_rank` over the weighted vector (title, then tags, then body).
    pub(crate) fn search(&mut self, q: &DocSearchQuery) -> Result<Vec<DocMatch>> {
        let words = words(&q.text);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        // plainto_tsquery joins the words with AND and websearch_to_tsquery reads `or`
        // between them as OR; neither raises an error on any input, and both drop stop
        // words and stem like the index does.
        let every = self.search_with(q, "plainto_tsquery", &words.join(" "))?;
        if !every.is_empty() || words.len() == 1 {
            return Ok(every);
        }
        self.search_with(q, "websearch_to_tsquery", &words.join(" or "))
    }

    fn search_with(
        &mut self,
        q: &DocSearchQuery,
        parse: &str,
        text: &str,
    ) -> Result<Vec<DocMatch>> {
        let mut params = Params::default();
        let query = params.push(text.to_string());
        let mut filter = String::new();
        if let Some(kind) = q.kind {
            filter = format!(" AND d.type = {}", params.push(kind.as_str().to_string()));
        }
        let limit = params.push(q.limit.min(i64::MAX as u64) as i64);
        // Rank first, then cut excerpts for the winners only: an excerpt costs far more
        // than a score.
        let sql = format!(
            "WITH q AS (SELECT {parse}('english', {query}) AS query), \
             best AS ( \
               SELECT d.id, ts_rank(d.search, q.query) AS score FROM docs d, q \
               WHERE d.search @@ q.query AND d.deleted_at IS NULL{filter} \
               ORDER BY score DESC, d.id DESC LIMIT {limit}) \
             SELECT {DOC_COLUMNS}, best.score::float8, \
               ts_headline('english', d.body, q.query, '{HEADLINE}') \
             FROM best JOIN docs d ON d.id = best.id CROSS JOIN q \
             ORDER BY best.score DESC, best.id DESC"
        );
        let rows = self.query(&sql, &params.refs())?;
        let mut found = Vec::with_capacity(rows.len());
        let mut docs = Vec::with_capacity(rows.len());
        for row in &rows {
            docs.push(doc_from_row(row)?);
            found.push((get::<f64>(row, 10)?, get::<String>(row, 11)?));
        }
        self.link_tasks(&mut docs)?;
        Ok(docs
            .into_iter()
            .zip(found)
            .map(|(doc, (score, snippet))| DocMatch {
                doc,
                score,
                snippet,
            })
            .collect())
    }
}
