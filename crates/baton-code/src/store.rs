//! The SQLite file behind the index: schema, writes and the cheap open used
//! by every query.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use crate::error::{CodeError, Result};
use crate::model::{RawImport, RawSymbol};

/// Bump when the schema or the meaning of stored facts changes; an index
/// with another version is rebuilt by the next scan.
pub const SCHEMA_VERSION: i64 = 10;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS files(
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    lang TEXT NOT NULL,
    hash BLOB NOT NULL,
    bytes INTEGER NOT NULL,
    lines INTEGER NOT NULL,
    -- Fingerprint of the file's stat data when it was read (see
    -- `walk::stamp`); 0 means look at the content again next time.
    stamp INTEGER NOT NULL
);
-- Files the scan found but did not index, with why (too_large, binary,
-- unreadable) and their stamps: an incremental scan looks at them again once
-- they change.
CREATE TABLE IF NOT EXISTS skipped(
    path TEXT PRIMARY KEY,
    stamp INTEGER NOT NULL,
    reason TEXT NOT NULL
) WITHOUT ROWID;
-- Folders the walk did not enter, with why (build_or_dependency, hidden,
-- virtualenv, unreadable); files git tracks in them are indexed all the same.
CREATE TABLE IF NOT EXISTS skipped_dirs(path TEXT PRIMARY KEY, reason TEXT NOT NULL) WITHOUT ROWID;
-- The files import resolution reads (go.mod, package.json, tsconfig.json and the rest:
-- `walk::is_marker`), kept by the walk like folders, with their stamps: an incremental
-- scan resolves imports again when one of them changes.
CREATE TABLE IF NOT EXISTS markers(path TEXT PRIMARY KEY, stamp INTEGER NOT NULL) WITHOUT ROWID;
-- A symbol's and an import's id is its file's id times 2^20 plus its place in the
-- file (`store::rows_of`): each file's rows are one range of the table, found
-- without an index on file_id (see `rows_of`), and file_id is computed from the
-- id when read, not stored (ROWS_PER_FILE_BITS is the 20).
CREATE TABLE IF NOT EXISTS symbols(
    id INTEGER PRIMARY KEY,
    file_id INTEGER GENERATED ALWAYS AS (id >> 20) VIRTUAL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    line INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    container TEXT,
    signature TEXT NOT NULL,
    exported INTEGER NOT NULL,
    doc TEXT
);
CREATE TABLE IF NOT EXISTS imports(
    id INTEGER PRIMARY KEY,
    file_id INTEGER GENERATED ALWAYS AS (id >> 20) VIRTUAL,
    line INTEGER NOT NULL,
    source TEXT NOT NULL,
    names TEXT NOT NULL,
    style TEXT NOT NULL,
    resolved TEXT
);
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Folders the walk entered and their mtimes: an incremental scan lists only
-- folders whose mtime changed to find new untracked files.
CREATE TABLE IF NOT EXISTS dirs(path TEXT PRIMARY KEY, mtime INTEGER NOT NULL) WITHOUT ROWID;
-- Every symbol name, one per line, in rows of a few KB: a substring search
-- over these is much faster than LIKE over every symbol row. A run is a
-- list sorted by (length in characters, name), the order results come in:
-- a full scan writes run 0, each incremental scan a small run of the names
-- it saw. Names that are gone may remain (incremental scans only append);
-- queries join back to `symbols`.
CREATE TABLE IF NOT EXISTS symbol_names(
    id INTEGER PRIMARY KEY,
    run INTEGER NOT NULL,
    names TEXT NOT NULL
);
";

const INDEXES: &str = "
CREATE INDEX IF NOT EXISTS symbols_name ON symbols(name);
CREATE INDEX IF NOT EXISTS imports_resolved ON imports(resolved);
";

const DROP_INDEXES: &str = "
DROP INDEX IF EXISTS symbols_name;
DROP INDEX IF EXISTS imports_resolved;
";

/// How many symbols (and imports) one file may have: its rows' ids are
/// `file_id << ROWS_PER_FILE_BITS` plus their place in the file. A file has at most
/// `walk::MAX_FILE_BYTES` (1 MiB), and each symbol or import takes several bytes of it.
pub const ROWS_PER_FILE_BITS: u32 = 20;

/// The ids of file `file_id`'s symbol rows, and of its import rows: from the first to
/// before the second. Each file's rows are one range of their table, so finding or
/// deleting them needs no index on `file_id`, and a full scan, which stores files one
/// after another, appends every row at the end of its table.
pub fn rows_of(file_id: i64) -> (i64, i64) {
    (
        file_id << ROWS_PER_FILE_BITS,
        (file_id + 1) << ROWS_PER_FILE_BITS,
    )
}

pub fn db_path(root: &Path) -> PathBuf {
    root.join(".baton").join("code.db")
}

/// Open for reading: no schema work beyond checking the version.
pub fn open_read(root: &Path) -> Result<Connection> {
    let path = db_path(root);
    if !path.is_file() {
        return Err(CodeError::IndexMissing { path });
    }
    let conn = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // Map the file instead of a read call per page.
    conn.pragma_update(None, "mmap_size", 256 * 1024 * 1024)?;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found != SCHEMA_VERSION {
        return Err(CodeError::IndexOutdated {
            path,
            found,
            expected: SCHEMA_VERSION,
        });
    }
    Ok(conn)
}

/// Open for a scan, creating the file; an index of another schema version is
/// discarded (it is a cache of the working tree).
pub fn open_write(root: &Path) -> Result<Connection> {
    let path = db_path(root);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| CodeError::io(dir, e))?;
    }
    let conn = Connection::open(&path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // Only a new file takes it (before the log is set up, which writes the header).
    conn.pragma_update(None, "page_size", PAGE_SIZE)?;
    conn.pragma_update(None, "mmap_size", 256 * 1024 * 1024)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // The index is a cache of the working tree that any scan rebuilds: no
    // fsync on commit or checkpoint (a scan must cost milliseconds, and a
    // power loss at worst asks for `baton scan`).
    conn.pragma_update(None, "synchronous", "OFF")?;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found == SCHEMA_VERSION {
        return Ok(conn);
    }
    if found != 0 {
        conn.execute_batch(
            "DROP TABLE IF EXISTS files; DROP TABLE IF EXISTS symbols;
             DROP TABLE IF EXISTS imports; DROP TABLE IF EXISTS meta;
             DROP TABLE IF EXISTS symbol_names; DROP TABLE IF EXISTS dirs;
             DROP TABLE IF EXISTS skipped; DROP TABLE IF EXISTS skipped_dirs;
             DROP TABLE IF EXISTS markers;",
        )?;
    }
    create_schema(&conn)?;
    Ok(conn)
}

fn create_schema(conn: &Connection) -> Result<()> {
    conn.execute_batch(SCHEMA)?;
    conn.execute_batch(INDEXES)?;
    conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    Ok(())
}

/// The page size of a new index. A full scan appends hundreds of thousands of rows:
/// with pages 4 times the default, SQLite allocates, fills and writes a quarter as many
/// pages (about 3,500 rather than 14,000 on the largest benchmark corpus).
const PAGE_SIZE: i64 = 16 * 1024;

/// Pages a full scan may keep in memory (KiB): the whole index of a large tree, so that
/// no page is written out and read back before the commit.
const FULL_SCAN_CACHE_KIB: i64 = 64 * 1024;

/// A new index, built beside `code.db` with no journal and put in place whole by
/// [`FreshIndex::put_in_place`].
///
/// A full scan into an existing index writes every page twice: into the write-ahead
/// log, then into the file when the log is checkpointed. Where there is no index yet,
/// nobody can be reading one, so the new file needs no log: a crash leaves a stray
/// `code.db.build` (the next build reuses it) and still no index. An existing index is
/// never replaced this way: a reader or writer with it open would go on using the old
/// file, while sharing its `-wal` and `-shm` files (found by name) with the new one.
pub struct FreshIndex {
    conn: Connection,
    build: PathBuf,
    target: PathBuf,
    /// Held while building: a second scan does not build into the same file.
    _lock: std::fs::File,
}

fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

fn wal_of(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_os_string();
    name.push("-wal");
    PathBuf::from(name)
}

impl FreshIndex {
    /// Start a new index, unless there is one already (or a log left of one), or another
    /// scan is building one: then `None`, and the scan writes into `code.db`.
    pub fn create(root: &Path) -> Result<Option<FreshIndex>> {
        let target = db_path(root);
        if exists(&target) || exists(&wal_of(&target)) {
            return Ok(None);
        }
        let dir = target.parent().unwrap_or(root);
        std::fs::create_dir_all(dir).map_err(|e| CodeError::io(dir, e))?;
        let build = target.with_file_name("code.db.build");
        let lock = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&build)
            .map_err(|e| CodeError::io(&build, e))?;
        if lock.try_lock().is_err() {
            return Ok(None);
        }
        // What a build that did not finish left.
        lock.set_len(0).map_err(|e| CodeError::io(&build, e))?;
        let conn = Connection::open(&build)?;
        conn.pragma_update(None, "page_size", PAGE_SIZE)?;
        conn.pragma_update(None, "journal_mode", "OFF")?;
        conn.pragma_update(None, "synchronous", "OFF")?;
        conn.pragma_update(None, "cache_size", -FULL_SCAN_CACHE_KIB)?;
        create_schema(&conn)?;
        Ok(Some(FreshIndex {
            conn,
            build,
            target,
            _lock: lock,
        }))
    }

    pub fn conn(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Make the built file `code.db`, if there is still none; false if one came
    /// meanwhile (the build is dropped, the scan must be done again in place).
    pub fn put_in_place(self) -> Result<bool> {
        let FreshIndex {
            conn,
            build,
            target,
            _lock,
        } = self;
        // Readers and later scans find the index in write-ahead-log mode, as always.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.close().map_err(|(_, e)| e)?;
        // Built without syncs: on disk whole before it becomes the index.
        std::fs::File::open(&build)
            .and_then(|f| f.sync_all())
            .map_err(|e| CodeError::io(&build, e))?;
        let placed = if exists(&wal_of(&target)) {
            Ok(false)
        } else {
            // A link, unlike a rename, never replaces a file another scan put there.
            match std::fs::hard_link(&build, &target) {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                Err(_) if !exists(&target) => std::fs::rename(&build, &target)
                    .map(|()| true)
                    .map_err(|e| CodeError::io(&target, e)),
                Err(_) => Ok(false),
            }
        };
        let _ = std::fs::remove_file(&build);
        placed
    }
}

/// Let a full scan into an existing index keep its pages in memory until the commit.
pub fn cache_for_full_scan(conn: &Connection) -> Result<()> {
    conn.pragma_update(None, "cache_size", -FULL_SCAN_CACHE_KIB)?;
    Ok(())
}

/// Empty the index and drop its secondary indexes, so a full scan inserts
/// fast; `finish_full` puts them back.
pub fn begin_full(conn: &Connection) -> Result<()> {
    conn.execute_batch(DROP_INDEXES)?;
    conn.execute_batch(
        "DELETE FROM files; DELETE FROM symbols; DELETE FROM imports; DELETE FROM dirs;
         DELETE FROM skipped; DELETE FROM skipped_dirs; DELETE FROM markers;",
    )?;
    Ok(())
}

pub fn finish_full(conn: &Connection) -> Result<()> {
    conn.execute_batch(INDEXES)?;
    conn.execute("DELETE FROM symbol_names", [])?;
    // Byte order from the name index; a stable sort by length keeps it. The names are
    // copied into one text, and sorted as (length, place) pairs: no string per name.
    let mut stmt = conn.prepare("SELECT DISTINCT name FROM symbols ORDER BY name")?;
    let mut rows = stmt.query([])?;
    let mut text = String::new();
    let mut spans: Vec<(usize, usize, usize)> = Vec::new();
    while let Some(row) = rows.next()? {
        let name = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
        let start = text.len();
        text.push_str(name);
        spans.push((name.chars().count(), start, text.len()));
    }
    spans.sort_by_key(|&(chars, _, _)| chars);
    put_names(conn, 0, spans.iter().map(|&(_, a, b)| &text[a..b]))
}

/// The order of the name list: length in characters, then bytes.
pub fn name_order(a: &str, b: &str) -> std::cmp::Ordering {
    (a.chars().count(), a).cmp(&(b.chars().count(), b))
}

/// The most text in one name list row: a row this small stays on its b-tree
/// page (no overflow pages), so a query reads it in place from the mapped
/// file instead of assembling one large value.
const NAME_ROW_BYTES: usize = 3900;

/// Store one run of names, in `name_order` and without repeats, as rows of
/// at most `NAME_ROW_BYTES`.
fn put_names<'a>(
    conn: &Connection,
    run: i64,
    names: impl IntoIterator<Item = &'a str>,
) -> Result<()> {
    let mut stmt = conn.prepare_cached("INSERT INTO symbol_names(run, names) VALUES (?1, ?2)")?;
    let mut row = String::new();
    for name in names {
        if !row.is_empty() && row.len() + 1 + name.len() > NAME_ROW_BYTES {
            stmt.execute(params![run, row])?;
            row.clear();
        }
        if !row.is_empty() {
            row.push('\n');
        }
        row.push_str(name);
    }
    if !row.is_empty() {
        stmt.execute(params![run, row])?;
    }
    Ok(())
}

/// Incremental runs of names are merged into one when there are this many,
/// so that a query has few runs to merge.
const MAX_RUNS: i64 = 8;

/// Add names seen by an incremental scan to the name list, as a new run.
pub fn append_names(conn: &Connection, mut names: Vec<String>) -> Result<()> {
    if names.is_empty() {
        return Ok(());
    }
    let (runs, last): (i64, i64) = conn.query_row(
        "SELECT count(DISTINCT run), coalesce(max(run), 0) FROM symbol_names WHERE run > 0",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if runs >= MAX_RUNS {
        // Incremental runs hold the names of changed files only: small.
        let mut stmt = conn.prepare("SELECT names FROM symbol_names WHERE run > 0")?;
        for row in stmt.query_map([], |r| r.get::<_, String>(0))? {
            names.extend(row?.split('\n').map(str::to_string));
        }
        conn.execute("DELETE FROM symbol_names WHERE run > 0", [])?;
    }
    names.sort_unstable_by(|a, b| name_order(a, b));
    names.dedup();
    put_names(conn, last + 1, names.iter().map(String::as_str))
}

/// One parsed file, ready to store.
#[derive(Debug)]
pub struct FileRecord {
    pub path: String,
    pub lang: &'static str,
    pub hash: [u8; 32],
    pub bytes: u64,
    pub lines: u32,
    pub stamp: i64,
    pub symbols: Vec<RawSymbol>,
    pub imports: Vec<(RawImport, Option<String>)>,
}

pub fn file_hash(conn: &Connection, path: &str) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .query_row("SELECT hash FROM files WHERE path = ?1", [path], |r| {
            r.get(0)
        })
        .optional()?)
}

/// Rows a change added or removed, to keep the totals without counting.
#[derive(Debug, Default, Clone, Copy)]
pub struct Delta {
    pub files: i64,
    pub symbols: i64,
    pub imports: i64,
}

pub fn remove_file(conn: &Connection, path: &str, delta: &mut Delta) -> Result<bool> {
    let id: Option<i64> = conn
        .query_row("SELECT id FROM files WHERE path = ?1", [path], |r| r.get(0))
        .optional()?;
    let Some(id) = id else { return Ok(false) };
    let (first, end) = rows_of(id);
    delta.symbols -= conn.execute(
        "DELETE FROM symbols WHERE id >= ?1 AND id < ?2",
        [first, end],
    )? as i64;
    delta.imports -= conn.execute(
        "DELETE FROM imports WHERE id >= ?1 AND id < ?2",
        [first, end],
    )? as i64;
    delta.files -= conn.execute("DELETE FROM files WHERE id = ?1", [id])? as i64;
    Ok(true)
}

/// Writes parsed files, with its statements prepared once for a whole batch.
pub struct FileWriter<'c> {
    conn: &'c Connection,
    file_stmt: rusqlite::Statement<'c>,
    sym_stmt: rusqlite::Statement<'c>,
    imp_stmt: rusqlite::Statement<'c>,
}

impl<'c> FileWriter<'c> {
    pub fn new(conn: &'c Connection) -> Result<Self> {
        Ok(FileWriter {
            conn,
            file_stmt: conn.prepare(
                "INSERT INTO files(path, lang, hash, bytes, lines, stamp) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?,
            sym_stmt: conn.prepare(
                "INSERT INTO symbols(id, name, kind, line, end_line, container, signature, exported, doc)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?,
            imp_stmt: conn.prepare(
                "INSERT INTO imports(id, line, source, names, style, resolved)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?,
        })
    }

    /// Insert a file, replacing what the index held for it.
    pub fn put_file(&mut self, rec: &FileRecord, replace: bool, delta: &mut Delta) -> Result<()> {
        if replace {
            remove_file(self.conn, &rec.path, delta)?;
        }
        delta.files += 1;
        delta.symbols += rec.symbols.len() as i64;
        delta.imports += rec.imports.len() as i64;
        self.file_stmt.execute(params![
            rec.path,
            rec.lang,
            &rec.hash[..],
            rec.bytes as i64,
            rec.lines,
            rec.stamp
        ])?;
        let file_id = self.conn.last_insert_rowid();
        // Each symbol and import has a name of its own in the file's text, with something
        // between them: a file within `walk::MAX_FILE_BYTES` has fewer than 2^20 of each,
        // and the range never runs out.
        let (first, end) = rows_of(file_id);
        for (s, id) in rec.symbols.iter().zip(first..end) {
            self.sym_stmt.execute(params![
                id,
                s.name,
                s.kind.as_str(),
                s.line,
                s.end_line,
                s.container,
                s.signature,
                s.exported,
                s.doc
            ])?;
        }
        for ((imp, resolved), id) in rec.imports.iter().zip(first..end) {
            self.imp_stmt.execute(params![
                id,
                imp.line,
                imp.source,
                imp.names.join(","),
                imp.style.as_str(),
                resolved
            ])?;
        }
        Ok(())
    }
}

/// A file the index knows, indexed or skipped, with its stored stamp.
pub struct Known {
    pub path: String,
    pub stamp: i64,
    pub skipped: bool,
}

/// Every indexed and skipped file.
///
/// An incremental scan reads every row of `files` here, so the columns are read by
/// reference (one copy of each path, no per-column type dispatch).
pub fn all_known(conn: &Connection) -> Result<Vec<Known>> {
    let mut known = Vec::new();
    for (table, skipped) in [("files", false), ("skipped", true)] {
        let mut stmt = conn.prepare(&format!("SELECT path, stamp FROM {table}"))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            known.push(Known {
                path: row
                    .get_ref(0)?
                    .as_str()
                    .map_err(rusqlite::Error::from)?
                    .to_owned(),
                stamp: row.get_ref(1)?.as_i64().map_err(rusqlite::Error::from)?,
                skipped,
            });
        }
    }
    Ok(known)
}

/// A file whose content did not change: remember its new stamp.
pub fn set_stamp(conn: &Connection, path: &str, stamp: i64) -> Result<()> {
    conn.prepare_cached("UPDATE files SET stamp = ?2 WHERE path = ?1")?
        .execute(params![path, stamp])?;
    Ok(())
}

/// Remember a file the scan did not index, and why.
pub fn put_skipped(conn: &Connection, path: &str, stamp: i64, reason: &str) -> Result<()> {
    conn.prepare_cached("INSERT OR REPLACE INTO skipped(path, stamp, reason) VALUES (?1, ?2, ?3)")?
        .execute(params![path, stamp, reason])?;
    Ok(())
}

/// Why a file was skipped, if it was.
pub fn skip_reason(conn: &Connection, path: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT reason FROM skipped WHERE path = ?1")?
        .query_row([path], |r| r.get(0))
        .optional()?)
}

/// Remember folders the walk did not enter, and why.
pub fn put_skipped_dirs(conn: &Connection, dirs: &[(String, &str)]) -> Result<()> {
    let mut stmt =
        conn.prepare_cached("INSERT OR REPLACE INTO skipped_dirs(path, reason) VALUES (?1, ?2)")?;
    for (path, reason) in dirs {
        stmt.execute(params![path, reason])?;
    }
    Ok(())
}

/// Forget the skipped folders and markers directly in `dir` (it is being listed again).
/// A folder listed again at depth 1 does not read its sub-folders, so it cannot tell
/// whether one is still unreadable: those rows stay until the folder goes or a full scan.
pub fn clear_listing_of(conn: &Connection, dir: &str) -> Result<()> {
    for (table, keep) in [
        ("skipped_dirs", "AND reason != 'unreadable'"),
        ("markers", ""),
    ] {
        conn.execute(
            &format!(
                "DELETE FROM {table} WHERE
                 ((?1 = '' AND instr(path, '/') = 0)
                  OR (?1 != '' AND substr(path, 1, length(?1) + 1) = ?1 || '/'
                      AND instr(substr(path, length(?1) + 2), '/') = 0)) {keep}"
            ),
            [dir],
        )?;
    }
    Ok(())
}

/// Marker files and their stamps.
pub fn put_markers(conn: &Connection, markers: &[(String, i64)]) -> Result<()> {
    let mut stmt =
        conn.prepare_cached("INSERT OR REPLACE INTO markers(path, stamp) VALUES (?1, ?2)")?;
    for (path, stamp) in markers {
        stmt.execute(params![path, stamp])?;
    }
    Ok(())
}

/// Marker files and their stamps, by path.
pub fn all_markers(conn: &Connection) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare("SELECT path, stamp FROM markers ORDER BY path")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

pub fn count_skipped_dirs(conn: &Connection) -> Result<u64> {
    let n: i64 = conn.query_row("SELECT count(*) FROM skipped_dirs", [], |r| r.get(0))?;
    Ok(n as u64)
}

/// Everything the index left out, files then folders: (path, reason, is a folder).
pub fn all_skipped(conn: &Connection) -> Result<Vec<(String, String, bool)>> {
    let mut stmt = conn.prepare(
        "SELECT path, reason, 0 FROM skipped UNION ALL SELECT path, reason, 1 FROM skipped_dirs
         ORDER BY 3, 1",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// Forget a skipped file; true if it was one.
pub fn remove_skipped(conn: &Connection, path: &str) -> Result<bool> {
    let n = conn
        .prepare_cached("DELETE FROM skipped WHERE path = ?1")?
        .execute([path])?;
    Ok(n > 0)
}

pub fn get_meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

pub fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

pub fn put_dirs(conn: &Connection, dirs: &[(String, i64)]) -> Result<()> {
    let mut stmt =
        conn.prepare_cached("INSERT OR REPLACE INTO dirs(path, mtime) VALUES (?1, ?2)")?;
    for (path, mtime) in dirs {
        stmt.execute(params![path, mtime])?;
    }
    Ok(())
}

pub fn all_dirs(conn: &Connection) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare("SELECT path, mtime FROM dirs")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// Forget a folder and the folders below it.
pub fn remove_dir(conn: &Connection, path: &str) -> Result<()> {
    for table in ["dirs", "skipped_dirs", "markers"] {
        conn.execute(
            &format!(
                "DELETE FROM {table} WHERE path = ?1 \
                 OR (?1 != '' AND substr(path, 1, length(?1) + 1) = ?1 || '/')"
            ),
            [path],
        )?;
    }
    Ok(())
}

/// Store the index totals after a full scan.
pub fn set_totals(conn: &Connection, totals: Delta) -> Result<()> {
    set_meta(
        conn,
        "totals",
        &format!("{} {} {}", totals.files, totals.symbols, totals.imports),
    )
}

/// Apply a change to the stored totals (counted afresh if missing) and
/// return the new totals.
pub fn add_totals(conn: &Connection, delta: Delta) -> Result<Delta> {
    let stored = get_meta(conn, "totals")?.and_then(|v| {
        let n: Vec<i64> = v.split(' ').filter_map(|x| x.parse().ok()).collect();
        (n.len() == 3).then(|| Delta {
            files: n[0],
            symbols: n[1],
            imports: n[2],
        })
    });
    let totals = match stored {
        Some(t) => Delta {
            files: t.files + delta.files,
            symbols: t.symbols + delta.symbols,
            imports: t.imports + delta.imports,
        },
        None => {
            let count = |sql: &str| -> Result<i64> { Ok(conn.query_row(sql, [], |r| r.get(0))?) };
            Delta {
                files: count("SELECT count(*) FROM files")?,
                symbols: count("SELECT count(*) FROM symbols")?,
                imports: count("SELECT count(*) FROM imports")?,
            }
        }
    };
    set_totals(conn, totals)?;
    Ok(totals)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SymbolKind;

    fn symbol(name: &str) -> RawSymbol {
        RawSymbol {
            name: name.to_string(),
            kind: SymbolKind::Function,
            line: 1,
            end_line: 1,
            container: None,
            signature: format!("def {name}()"),
            exported: true,
            doc: None,
        }
    }

    #[test]
    fn new_index_has_large_pages_and_rows_name_their_file_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let mut fresh = FreshIndex::create(dir.path()).unwrap().unwrap();
        let conn = fresh.conn();
        let page: i64 = conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap();
        assert_eq!(page, PAGE_SIZE);
        let mut delta = Delta::default();
        let mut writer = FileWriter::new(conn).unwrap();
        for (path, names) in [("a.py", &["one", "two"][..]), ("b.py", &["three"][..])] {
            let rec = FileRecord {
                path: path.to_string(),
                lang: "python",
                hash: [0; 32],
                bytes: 1,
                lines: 1,
                stamp: 0,
                symbols: names.iter().map(|n| symbol(n)).collect(),
                imports: Vec::new(),
            };
            writer.put_file(&rec, false, &mut delta).unwrap();
        }
        drop(writer);
        let mut stmt = conn
            .prepare(
                "SELECT f.path, s.name, s.file_id, s.id >> ?1 FROM symbols s
                 JOIN files f ON f.id = s.file_id ORDER BY s.id",
            )
            .unwrap();
        let rows: Vec<(String, String, i64, i64)> = stmt
            .query_map([ROWS_PER_FILE_BITS], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let named: Vec<(&str, &str)> = rows
            .iter()
            .map(|(p, n, _, _)| (p.as_str(), n.as_str()))
            .collect();
        assert_eq!(named, [("a.py", "one"), ("a.py", "two"), ("b.py", "three")]);
        // The schema's shift is ROWS_PER_FILE_BITS.
        assert!(rows
            .iter()
            .all(|(_, _, stored, computed)| stored == computed));
        assert_eq!(delta.symbols, 3);
    }
}
