// Reads one PowerShell script with tree-sitter-powershell (web-tree-sitter, WASM) and prints, as one
// JSON object: the syntax errors (ERROR and MISSING nodes: line, column, the text there), the script's
// own parameters (its top-level param block), what only PowerShell 7 parses, the commands it runs and
// the functions it defines, the plain assignments "$NAME = literal", every variable it names, and
// those it sets. Run by KgFetchPs1ParseTest: node ps1-parse.cjs PREFIX SCRIPT, where PREFIX is the
// directory npm installed web-tree-sitter and tree-sitter-powershell into (PREFIX/node_modules). Run
// node with --liftoff-only: V8 optimising the grammar's WebAssembly costs seconds, the parse 60 ms.
const fs = require('fs');
const prefix = process.argv[2];
const { Parser, Language } = require(require.resolve('web-tree-sitter', { paths: [prefix] }));

(async () => {
  await Parser.init();
  const language = await Language.load(require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm', { paths: [prefix] }));
  const parser = new Parser();
  parser.setLanguage(language);
  const source = fs.readFileSync(process.argv[3], 'utf8');
  const root = parser.parse(source).rootNode;

  // A tree without an error says so at its root; only then is it walked (a cursor: node by node
  // through the WASM heap is slow), skipping every subtree without one.
  const errors = [];
  if (root.hasError) {
    const cursor = root.walk();
    let descend = true;
    for (;;) {
      const n = cursor.currentNode;
      if (descend && (n.type === 'ERROR' || n.isMissing)) {
        errors.push({ line: n.startPosition.row + 1, column: n.startPosition.column + 1,
          what: n.isMissing ? 'missing ' + n.type : 'cannot parse',
          text: source.slice(n.startIndex, Math.min(n.endIndex, n.startIndex + 80)) });
      }
      if (descend && n.hasError && cursor.gotoFirstChild()) continue;
      if (cursor.gotoNextSibling()) { descend = true; continue; }
      if (!cursor.gotoParent()) break;
      descend = false;
    }
  }

  const parameters = [];
  const block = root.namedChildren.find((c) => c.type === 'param_block');
  if (block) {
    for (const p of block.descendantsOfType('script_parameter')) {
      const v = p.namedChildren.find((c) => c.type === 'variable');
      if (v) parameters.push(v.text.replace(/^\$/, ''));
    }
  }

  // Variables by name: $x and ${x} are one. Set: assigned anywhere, a parameter of the script or of a
  // function, or a foreach variable (scopes are not told apart).
  const nameOf = (v) => v.text.replace(/^\$/, '').replace(/^\{(.*)\}$/, '$1');
  const assignments = {};
  const set = new Set();
  for (const a of root.descendantsOfType('assignment_expression')) {
    const left = a.namedChildren[0];
    const value = a.childForFieldName('value');
    const vars = left ? left.descendantsOfType('variable') : [];
    vars.forEach((v) => set.add(nameOf(v)));
    if (vars.length === 1 && left.text.trim() === vars[0].text && value) {
      assignments[vars[0].text.replace(/^\$/, '')] = value.text.trim();
    }
  }

  // PowerShell 7's pipeline chain operators (&&, ||), which Windows PowerShell 5.1 cannot parse. The
  // grammar knows no other 7-only syntax: a ternary or ?? is an ERROR above.
  const lines = source.split('\n');
  const ps7Only = root.descendantsOfType('pipeline_chain_tail').map((n) => ({
    line: n.startPosition.row + 1, column: n.startPosition.column + 1, text: lines[n.startPosition.row].trim().slice(0, 80) }));

  const commands = [...new Set(root.descendantsOfType('command_name').map((n) => n.text))].sort();
  const functions = root.descendantsOfType('function_statement')
    .map((f) => f.namedChildren.find((c) => c.type === 'function_name')).filter((n) => n).map((n) => n.text).sort();

  const variables = [...new Set(root.descendantsOfType('variable').map(nameOf))].sort();
  for (const n of [...root.descendantsOfType('script_parameter'), ...root.descendantsOfType('foreach_statement')]) {
    const v = n.namedChildren.find((c) => c.type === 'variable');
    if (v) set.add(nameOf(v));
  }
  process.stdout.write(JSON.stringify({ errors, ps7Only, parameters, commands, functions, assignments, variables,
    setVariables: [...set].sort() }) + '\n');
})().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(2);
});
