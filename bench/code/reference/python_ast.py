"""Reference definitions of Python files, from CPython's own parser (the `ast` module).

Reads project-relative paths on stdin (one per line), run from the corpus root, and
prints one JSON object per definition: file, name, line (of the `def`/`class` keyword's
statement, decorators excluded, as the index records it), kind. Every depth is
included: functions, async functions, methods and classes nested anywhere.
"""
import ast
import json
import sys
import warnings

warnings.simplefilter("ignore")
failed = 0
for line in sys.stdin:
    path = line.rstrip("\n")
    if not path.endswith((".py", ".pyi")):
        continue
    try:
        with open(path, "rb") as f:
            tree = ast.parse(f.read(), filename=path)
    except (SyntaxError, ValueError, OSError):
        failed += 1
        continue
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            kind = "method" if isinstance(parents.get(node), ast.ClassDef) else "function"
        elif isinstance(node, ast.ClassDef):
            kind = "class"
        else:
            continue
        print(json.dumps({"file": path, "name": node.name, "line": node.lineno, "kind": kind}))
print(json.dumps({"unparsed": failed}), file=sys.stderr)
