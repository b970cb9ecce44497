/**
 * PromQL checking: syntax with Prometheus's own grammar (`@prometheus-io/lezer-promql`, the parser behind the
 * Prometheus UI), then the type checks Prometheus makes when it loads a rule file (promql-types.ts). Settings
 * validation uses it for custom alert expressions, and rendering uses it for every rule and dashboard query, so
 * a mistake is reported before a file is written instead of when Prometheus refuses to start.
 */
import { parser } from "@prometheus-io/lezer-promql";
import { promqlTypeErrors } from "./promql-types";

/**
 * What Prometheus would refuse in an expression that a rule or a graph evaluates: syntax errors, or when it
 * parses, type errors (a function given the wrong type or number of arguments, a range vector where an instant
 * vector belongs, a result that is not an instant vector or a scalar). Each names its column; empty when valid.
 */
export function promqlErrors(expr: string): string[] {
  const syntaxErrors = promqlSyntaxErrors(expr);
  return syntaxErrors.length > 0 ? syntaxErrors : promqlTypeErrors(expr);
}

/** Syntax errors in a PromQL expression, each naming the column and the text found there; empty when it parses. */
function promqlSyntaxErrors(expr: string): string[] {
  if (expr.trim() === "") return ["the expression is empty"];
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (!node.type.isError) return true;
      const column = node.from + 1;
      const found = expr.slice(node.from, node.to);
      errors.push(
        found === ""
          ? node.from >= expr.length
            ? `column ${column}: the expression ends too early`
            : `column ${column}: unexpected ${JSON.stringify(expr.slice(node.from, node.from + 12))}`
          : `column ${column}: unexpected ${JSON.stringify(found)}`,
      );
      return false;
    },
  });
  return errors;
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
