"""Recall of the code index against a reference extractor.

    python3 compare.py CODE_DB REFERENCE_JSONL MISSES_OUT

A reference definition (file, name, line) is found when the index holds a symbol of that
file and name whose lines (line to end_line) include the reference's line. Prints one
JSON object: per kind, how many the reference lists and how many the index found, and
the total. Writes every definition not found to MISSES_OUT.
"""
import collections
import json
import sqlite3
import sys

db, reference, misses_out = sys.argv[1:4]
spans = collections.defaultdict(list)
for path, name, line, end in sqlite3.connect(db).execute(
    "SELECT f.path, s.name, s.line, s.end_line FROM symbols s JOIN files f ON f.id = s.file_id"
):
    spans[(path, name)].append((line, end))

total = collections.Counter()
found = collections.Counter()
missed = []
indexed_files = {p for p, in sqlite3.connect(db).execute("SELECT path FROM files")}
for raw in open(reference):
    d = json.loads(raw)
    if d["file"] not in indexed_files:
        continue
    total[d["kind"]] += 1
    if any(a <= d["line"] <= b for a, b in spans.get((d["file"], d["name"]), ())):
        found[d["kind"]] += 1
    else:
        missed.append(d)
with open(misses_out, "w") as out:
    for d in missed:
        out.write(f'{d["file"]}:{d["line"]} {d["kind"]} {d["name"]}\n')
kinds = {
    k: {"reference": total[k], "found": found[k], "recall": round(100 * found[k] / total[k], 2)}
    for k in sorted(total)
}
all_ref, all_found = sum(total.values()), sum(found.values())
print(json.dumps({
    "kinds": kinds,
    "reference": all_ref,
    "found": all_found,
    "recall": round(100 * all_found / max(all_ref, 1), 2),
}))
