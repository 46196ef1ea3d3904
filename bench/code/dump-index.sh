#!/usr/bin/env bash
# Every fact of a code index as sorted text, without row ids, stamps or times:
# two scans of the same tree that index the same thing give the same dump.
#
#   bash bench/code/dump-index.sh DIR/.baton/code.db > a.txt
set -euo pipefail
sqlite3 "$1" <<'SQL'
.mode list
.separator "\t"
SELECT 'F', path, lang, hex(hash), bytes, lines FROM files ORDER BY path;
SELECT 'S', f.path, s.name, s.kind, s.line, s.end_line, coalesce(s.container, '<null>'),
       s.signature, s.exported, coalesce(s.doc, '<null>')
  FROM symbols s JOIN files f ON f.id = s.file_id ORDER BY f.path, s.id;
SELECT 'I', f.path, i.line, i.source, i.names, i.style, coalesce(i.resolved, '<null>')
  FROM imports i JOIN files f ON f.id = i.file_id ORDER BY f.path, i.id;
SELECT 'N', run, names FROM symbol_names ORDER BY id;
SELECT 'K', path, reason FROM skipped ORDER BY path;
SELECT 'D', path FROM dirs ORDER BY path;
SELECT 'SD', path, reason FROM skipped_dirs ORDER BY path;
SELECT 'M', path FROM markers ORDER BY path;
SELECT 'X', key, value FROM meta WHERE key != 'scanned_at' ORDER BY key;
SELECT 'IDX', name, sql FROM sqlite_master ORDER BY name;
SQL
