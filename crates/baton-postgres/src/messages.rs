//! Rows of messages: questions and answers, threads, delivery.

use baton_core::model::Message;
use baton_core::store::{MessageQuery, NewMessage};
use baton_core::{MessageId, Result};
use postgres::Row;

use crate::params::Params;
use crate::rows::{get, opt_task_id, opt_timestamp, timestamp, ts_text};
use crate::tx::PgTx;

const MESSAGE_COLUMNS: &str = "id, sender, recipient, task, body, reply_to, thread, created_at, \
    answered_at, answered_by, read_at";

fn message_from_row(r: &Row) -> Result<Message> {
    Ok(Message {
        id: MessageId(get::<i64>(r, 0)? as u64),
        from: get(r, 1)?,
        to: get(r, 2)?,
        task: opt_task_id(r, 3)?,
        body: get(r, 4)?,
        reply_to: get::<Option<i64>>(r, 5)?.map(|n| MessageId(n as u64)),
        thread: MessageId(get::<i64>(r, 6)? as u64),
        created_at: timestamp(r, 7)?,
        answered_at: opt_timestamp(r, 8)?,
        answered_by: get(r, 9)?,
        read_at: opt_timestamp(r, 10)?,
        warning: None,
    })
}

impl PgTx<'_> {
    pub(crate) fn insert_message_row(&mut self, m: &NewMessage) -> Result<Message> {
        // A question starts its own thread: its thread is its own id, known once inserted.
        let row = self.query_one(
            "WITH id AS (SELECT nextval(pg_get_serial_sequence('messages', 'id')) AS id) \
             INSERT INTO messages (id, sender, recipient, task, body, reply_to, thread, created_at) \
             SELECT id.id, $1, $2, $3, $4, $5, coalesce($6, id.id), $7 FROM id \
             RETURNING id, thread",
            &[
                &m.from,
                &m.to,
                &m.task.map(|t| t.number() as i64),
                &m.body,
                &m.reply_to.map(|r| r.number() as i64),
                &m.thread.map(|t| t.number() as i64),
                &ts_text(m.created_at),
            ],
        )?;
        Ok(Message {
            id: MessageId(get::<i64>(&row, 0)? as u64),
            from: m.from.clone(),
            to: m.to.clone(),
            task: m.task,
            body: m.body.clone(),
            reply_to: m.reply_to,
            thread: MessageId(get::<i64>(&row, 1)? as u64),
            created_at: m.created_at,
            answered_at: None,
            answered_by: None,
            read_at: None,
            warning: None,
        })
    }

    pub(crate) fn message_by_id(&mut self, id: MessageId) -> Result<Option<Message>> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1");
        self.query_opt(&sql, &[&(id.number() as i64)])?
            .map(|row| message_from_row(&row))
            .transpose()
    }

    pub(crate) fn select_messages(&mut self, q: &MessageQuery) -> Result<Vec<Message>> {
        let mut conditions: Vec<String> = Vec::new();
        let mut params = Params::default();
        if !q.to.is_empty() {
            conditions.push(format!("recipient = ANY({})", params.push(q.to.clone())));
        }
        if let Some(from) = &q.not_from {
            conditions.push(format!("sender <> {}", params.push(from.clone())));
        }
        if let Some(thread) = q.thread {
            conditions.push(format!("thread = {}", params.push(thread.number() as i64)));
        }
        if let Some(reply_to) = q.reply_to {
            conditions.push(format!(
                "reply_to = {}",
                params.push(reply_to.number() as i64)
            ));
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
                let limit = limit.min(i64::MAX as u64) as i64;
                sql = format!(
                    "SELECT * FROM ({sql} ORDER BY id DESC LIMIT {}) newest ORDER BY id",
                    params.push(limit)
                );
            }
            None => sql.push_str(" ORDER BY id"),
        }
        self.query(&sql, &params.refs())?
            .iter()
            .map(message_from_row)
            .collect()
    }
}
