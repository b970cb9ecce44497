/**
 * PromQL checking with the Prometheus UI's own code: its grammar (`@prometheus-io/lezer-promql`) for syntax, and
 * its query editor's linter (`@prometheus-io/codemirror-promql`), run headless, for types: function arguments,
 * range versus instant vectors, operators and vector matching, selectors that match everything. A rule adds one
 * check of its own: its result must be an instant vector or a scalar. Settings validation uses this for custom
 * alert expressions and rendering for every rule and dashboard query, so that most mistakes are reported before a
 * file is written. The few checks the linter leaves to the server (experimental functions, misplaced modifiers;
 * configs/promql/lint.test.ts lists them) are Prometheus's own: `promtool check rules` and the stack's replicas.
 */
import { EditorState } from "@codemirror/state";
import { Parser } from "@prometheus-io/codemirror-promql/dist/cjs/parser";
import { ValueType } from "@prometheus-io/codemirror-promql/dist/cjs/types";
import { parser } from "@prometheus-io/lezer-promql";

/**
 * What Prometheus would refuse in an expression that a rule or a graph evaluates: syntax errors, or when it
 * parses, type errors. Each names its column; empty when valid.
 */
export function promqlErrors(expr: string): string[] {
  if (expr.trim() === "") return ["the expression is empty"];
  const { topNode } = parser.parse(expr);
  const syntaxErrors = errorNodes(expr, topNode);
  if (syntaxErrors.length > 0) return syntaxErrors;

  // The linter reads the text from an editor state and walks the tree it is given: the same grammar's.
  const linter = new Parser(EditorState.create({ doc: expr }));
  // One tree, two type declarations: lezer-promql declares only its ESM build, the linter's CJS build the CJS one.
  const type = linter.checkAST(topNode.firstChild as Parameters<Parser["checkAST"]>[0]);
  const errors = linter
    .getDiagnostics()
    .filter((diagnostic) => diagnostic.severity === "error")
    .map((diagnostic) => `column ${diagnostic.from + 1}: ${inPrometheusWords(diagnostic.message)}`);
  // On its own only: after another error, the result's type is mostly an echo of it.
  if (errors.length === 0 && (type === ValueType.matrix || type === ValueType.string)) {
    errors.push(
      `column 1: the expression must evaluate to an instant vector or a scalar, got ${inPrometheusWords(type)}`,
    );
  }
  return errors;
}

type SyntaxNode = ReturnType<typeof parser.parse>["topNode"];

/** The grammar's error nodes, each as the column and the text found there. */
function errorNodes(expr: string, top: SyntaxNode): string[] {
  const errors: string[] = [];
  top.cursor().iterate((node) => {
    if (!node.type.isError) return true;
    const column = node.from + 1;
    const found = expr.slice(node.from, node.to) || expr.slice(node.from, node.from + 12);
    errors.push(
      found === ""
        ? `column ${column}: the expression ends too early`
        : `column ${column}: unexpected ${JSON.stringify(found)}`,
    );
    return false;
  });
  return errors;
}

/** The linter names types as the UI's code does; Prometheus's messages say "instant vector", "range vector". */
function inPrometheusWords(message: string): string {
  return message.replace(/\b(type |got |^)(vector|matrix)\b/g, (_, before: string, type: string) =>
    type === "vector" ? `${before}instant vector` : `${before}range vector`,
  );
}

/** An invalid expression, with where it came from (a rule or a dashboard panel). */
export interface PromqlProblem {
  readonly origin: string;
  readonly expr: string;
  readonly errors: readonly string[];
}

/** Every invalid expression of a render; the message names each one's origin. */
export class PromqlError extends Error {
  constructor(readonly problems: readonly PromqlProblem[]) {
    super(
      `invalid PromQL:\n${problems
        .map((p) => `  - ${p.origin}: ${p.errors.join("; ")} in ${JSON.stringify(p.expr)}`)
        .join("\n")}`,
    );
    this.name = "PromqlError";
  }
}

/** Throws a `PromqlError` naming the origin of every invalid expression. */
export function assertPromql(expressions: readonly { origin: string; expr: string }[]): void {
  const problems = expressions
    .map(({ origin, expr }) => ({ origin, expr, errors: promqlErrors(expr) }))
    .filter(({ errors }) => errors.length > 0);
  if (problems.length > 0) throw new PromqlError(problems);
}
