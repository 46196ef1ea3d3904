//! Rows of messages: questions and answers, threads, delivery. `SqliteTx` calls these
//! inside its open transaction.

use baton_core::model::Message;
use baton_core::store::{MessageQuery, NewMessage};
use baton_core::time::Timestamp;
use baton_core::{MessageId, Result, TaskId};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

use crate::knowledge::placeholders;
use crate::map_err;
use crate::rows::Ts;

const MESSAGE_COLUMNS: &str = "id, sender, recipient, task, body, reply_to, thread, created_at, \
    answered_at, answered_by, read_at";

fn message_from_row(r: &Row<'_>) -> rusqlite::Result<Message> {
    let opt_ts = |i: usize| -> rusqlite::Result<Option<Timestamp>> {
        Ok(r.get::<_, Option<Ts>>(i)?.map(|t| t.0))
    };
    Ok(Message {
        id: MessageId(r.get::<_, i64>(0)? as u64),
        from: r.get(1)?,
        to: r.get(2)?,
        task: r.get::<_, Option<i64>>(3)?.map(|n| TaskId(n as u64)),
        body: r.get(4)?,
        reply_to: r.get::<_, Option<i64>>(5)?.map(|n| MessageId(n as u64)),
        thread: MessageId(r.get::<_, i64>(6)? as u64),
        created_at: r.get::<_, Ts>(7)?.0,
        answered_at: opt_ts(8)?,
        answered_by: r.get(9)?,
        read_at: opt_ts(10)?,
        warning: None,
    })
}

pub fn insert_message(conn: &Connection, m: &NewMessage) -> Result<Message> {
    conn.prepare_cached(
        "INSERT INTO messages (sender, recipient, task, body, reply_to, thread, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut s| {
        s.execute(params![
            m.from,
            m.to,
            m.task.map(|t| t.number() as i64),
            m.body,
            m.reply_to.map(|r| r.number() as i64),
            m.thread.map(|t| t.number() as i64).unwrap_or(0),
            Ts(m.created_at),
        ])
    })
    .map_err(map_err)?;
    let id = MessageId(conn.last_insert_rowid() as u64);
    let thread = match m.thread {
        Some(t) => t,
        None => {
            // A question starts its own thread.
            conn.prepare_cached("UPDATE messages SET thread = id WHERE id = ?1")
                .and_then(|mut s| s.execute([id.number() as i64]))
                .map_err(map_err)?;
            id
        }
    };
    Ok(Message {
        id,
        from: m.from.clone(),
        to: m.to.clone(),
        task: m.task,
        body: m.body.clone(),
        reply_to: m.reply_to,
        thread,
        created_at: m.created_at,
        answered_at: None,
        answered_by: None,
        read_at: None,
        warning: None,
    })
}

pub fn message(conn: &Connection, id: MessageId) -> Result<Option<Message>> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1");
    conn.prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_row([id.number() as i64], message_from_row)
                .optional()
        })
        .map_err(map_err)
}

pub fn messages(conn: &Connection, q: &MessageQuery) -> Result<Vec<Message>> {
    let mut conditions: Vec<String> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    if !q.to.is_empty() {
        conditions.push(format!("recipient IN ({})", placeholders(q.to.len())));
        values.extend(q.to.iter().map(|t| Value::Text(t.clone())));
    }
    if let Some(from) = &q.not_from {
        conditions.push("sender <> ?".into());
        values.push(Value::Text(from.clone()));
    }
    if let Some(thread) = q.thread {
        conditions.push("thread = ?".into());
        values.push(Value::Integer(thread.number() as i64));
    }
    if let Some(reply_to) = q.reply_to {
        conditions.push("reply_to = ?".into());
        values.push(Value::Integer(reply_to.number() as i64));
    }
    if q.pending_only {
        // Same expression as the partial index messages_pending.
        conditions.push(
            "((reply_to IS NULL AND answered_at IS NULL) OR (reply_to IS NOT NULL AND read_at IS NULL))"
                .into(),
        );
    }
    let mut sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages");
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    match q.limit {
        Some(limit) => {
            sql = format!("SELECT * FROM ({sql} ORDER BY id DESC LIMIT ?) ORDER BY id");
            values.push(Value::Integer(limit.min(i64::MAX as u64) as i64));
        }
        None => sql.push_str(" ORDER BY id"),
    }
    let mut stmt = conn.prepare_cached(&sql).map_err(map_err)?;
    let rows = stmt
        .query_map(params_from_iter(values), message_from_row)
        .map_err(map_err)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map_err)
}

pub fn mark_answered(conn: &Connection, id: MessageId, by: &str, at: Timestamp) -> Result<()> {
    conn.prepare_cached(
        "UPDATE messages SET answered_at = ?2, answered_by = ?3 \
         WHERE id = ?1 AND answered_at IS NULL",
    )
    .and_then(|mut s| s.execute(params![id.number() as i64, Ts(at), by]))
    .map_err(map_err)?;
    Ok(())
}

pub fn mark_read(conn: &Connection, ids: &[MessageId], at: Timestamp) -> Result<()> {
    let mut stmt = conn
        .prepare_cached("UPDATE messages SET read_at = ?2 WHERE id = ?1 AND read_at IS NULL")
        .map_err(map_err)?;
    for id in ids {
        stmt.execute(params![id.number() as i64, Ts(at)])
            .map_err(map_err)?;
    }
    Ok(())
}
