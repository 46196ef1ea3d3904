// Reference definitions of TypeScript and JavaScript files, from the TypeScript
// compiler's own parser (the `typescript` npm package, given as argv[2]).
//
// Reads project-relative paths on stdin, run from the corpus root, and prints one JSON
// object per definition: file, name, line (1-based, of the name), kind. Every depth is
// included: functions, methods (class and object literal), classes, interfaces and
// their members, type aliases and type-literal members, enums, and constants or
// variables holding a function or class.
const ts = require(process.argv[2]);
const fs = require("fs");

const input = fs.readFileSync(0, "utf8").split("\n").filter(Boolean);
const kindOf = (node) => {
  const k = ts.SyntaxKind;
  switch (node.kind) {
    case k.FunctionDeclaration: return "function";
    case k.MethodDeclaration: return "method";
    case k.ClassDeclaration: return "class";
    case k.InterfaceDeclaration: return "interface";
    case k.MethodSignature: return "method";
    case k.PropertySignature: return "field";
    case k.TypeAliasDeclaration: return "type";
    case k.EnumDeclaration: return "enum";
    case k.VariableDeclaration: {
      const init = node.initializer;
      if (!init) return null;
      if (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) return "function";
      if (ts.isClassExpression(init)) return "class";
      return null;
    }
    default: return null;
  }
};
const nameOf = (node) => {
  const n = node.name;
  if (!n) return null;
  if (ts.isIdentifier(n) || ts.isPrivateIdentifier(n)) return n.text;
  if (ts.isStringLiteral(n) || ts.isNumericLiteral(n)) return n.text;
  return null; // computed names and binding patterns
};
for (const file of input) {
  if (!/\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/.test(file)) continue;
  let text;
  try { text = fs.readFileSync(file, "utf8"); } catch { continue; }
  const kind = file.endsWith("x") ? ts.ScriptKind.TSX
    : /\.(js|mjs|cjs)$/.test(file) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const visit = (node) => {
    const k = kindOf(node);
    const name = k && nameOf(node);
    if (name) {
      const at = node.name.getStart(source);
      const line = source.getLineAndCharacterOfPosition(at).line + 1;
      console.log(JSON.stringify({ file, name, line, kind: k }));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
