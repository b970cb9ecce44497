/**
 * The type checks Prometheus makes after parsing (`checkAST` in its promql/parser/parse.go), over the tree of
 * `@prometheus-io/lezer-promql`. The grammar accepts `rate(up)` or `sum(x[5m])`; Prometheus refuses to load a
 * rule file holding one, so a rule that only parses would crash-loop every replica. Each check reports what
 * Prometheus would, in its words, with the column. Where the tree has a shape this module does not know, the
 * type is unknown and nothing is reported about it: every problem reported here is one Prometheus reports too.
 */
import { parser } from "@prometheus-io/lezer-promql";
import { type PromqlFunction, type PromqlType, promqlFunctions } from "./promql-functions";

type SyntaxNode = ReturnType<typeof parser.parse>["topNode"];

/** A type, or undefined where it could not be determined (no check then involves it). */
type Checked = PromqlType | undefined;

const comparisonOperators = new Set(["Eql", "Neq", "Gtr", "Lss", "Gte", "Lte"]);
const setOperators = new Set(["And", "Or", "Unless"]);
const arithmeticOperators = new Set([
  "Add",
  "Sub",
  "Mul",
  "Div",
  "Mod",
  "Pow",
  "Atan2",
  "TrimUpper",
  "TrimLower",
]);

/** Modifiers that apply to a selector or subquery, not to any expression. */
const selectorModifiers: Readonly<Record<string, string>> = {
  OffsetExpr: "offset",
  StepInvariantExpr: "@",
  SmoothedExpr: "smoothed",
  AnchoredExpr: "anchored",
};

/** Aggregations that take a parameter before the vector, and its type. */
const aggregationParameters: Readonly<Record<string, PromqlType>> = {
  topk: "scalar",
  bottomk: "scalar",
  quantile: "scalar",
  limitk: "scalar",
  limit_ratio: "scalar",
  count_values: "string",
};

const experimentalAggregations = new Set(["limitk", "limit_ratio"]);

const notEnabled = "the stack's Prometheus does not enable --enable-feature=promql-experimental-functions";

/** Type errors of an expression that parses, each naming its column as the syntax errors do. */
export function promqlTypeErrors(expr: string): string[] {
  const checker = new TypeChecker(expr);
  const root = expressions(parser.parse(expr).topNode)[0];
  if (!root) return [];
  const type = checker.check(root);
  // Only on its own: after another error, the result's type is mostly an echo of it.
  if (checker.errors.length === 0 && (type === "range vector" || type === "string")) {
    checker.error(root, `the expression must evaluate to an instant vector or a scalar, got ${type}`);
  }
  return checker.errors;
}

/** The expression children of a node, in order: operators, modifiers and comments left out. */
function expressions(node: SyntaxNode): SyntaxNode[] {
  return children(node).filter((child) => expressionNodes.has(child.name));
}

const expressionNodes = new Set([
  "AggregateExpr",
  "AnchoredExpr",
  "BinaryExpr",
  "FunctionCall",
  "MatrixSelector",
  "NumberDurationLiteral",
  "OffsetExpr",
  "ParenExpr",
  "SmoothedExpr",
  "StepInvariantExpr",
  "StringLiteral",
  "SubqueryExpr",
  "UnaryExpr",
  "VectorSelector",
]);

function children(node: SyntaxNode): SyntaxNode[] {
  const found: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) {
    if (child.name !== "LineComment") found.push(child);
  }
  return found;
}

function child(node: SyntaxNode, name: string): SyntaxNode | undefined {
  return children(node).find((candidate) => candidate.name === name);
}

class TypeChecker {
  readonly errors: string[] = [];

  constructor(private readonly expr: string) {}

  error(node: SyntaxNode, message: string): void {
    this.errors.push(`column ${node.from + 1}: ${message}`);
  }

  private text(node: SyntaxNode): string {
    return this.expr.slice(node.from, node.to);
  }

  check(node: SyntaxNode): Checked {
    switch (node.name) {
      case "NumberDurationLiteral":
        return "scalar";
      case "StringLiteral":
        return "string";
      case "ParenExpr": {
        const [inner] = expressions(node);
        return inner && this.check(inner);
      }
      case "VectorSelector":
        this.checkMatchers(node);
        return "instant vector";
      case "MatrixSelector":
        return this.matrixSelector(node);
      case "SubqueryExpr":
        return this.subquery(node);
      case "UnaryExpr":
        return this.unary(node);
      case "BinaryExpr":
        return this.binary(node);
      case "AggregateExpr":
        return this.aggregation(node);
      case "FunctionCall":
        return this.call(node);
      default:
        if (node.name in selectorModifiers) return this.modified(node);
        return undefined;
    }
  }

  private matrixSelector(node: SyntaxNode): Checked {
    const [selector] = expressions(node);
    if (selector?.name === "VectorSelector") {
      this.check(selector);
    } else if (selector?.name === "UnaryExpr") {
      // The grammar reads `-up[5m]` as a range of `-up`; Prometheus, as the negation of a range vector.
      this.error(
        node,
        "unary expression only allowed on expressions of type scalar or instant vector, got range vector",
      );
    } else if (selector) {
      this.error(node, "ranges only allowed for vector selectors");
    }
    return "range vector";
  }

  private subquery(node: SyntaxNode): Checked {
    const [inner] = expressions(node);
    const type = inner && this.check(inner);
    if (type !== undefined && type !== "instant vector") {
      this.error(node, `subquery is only allowed on instant vector, got ${type} instead`);
    }
    return "range vector";
  }

  private unary(node: SyntaxNode): Checked {
    const [operand] = expressions(node);
    const type = operand && this.check(operand);
    if (type === "range vector" || type === "string") {
      this.error(
        node,
        `unary expression only allowed on expressions of type scalar or instant vector, got ${type}`,
      );
    }
    return type;
  }

  /**
   * A chain of modifiers (`x[5m] offset 1m @ end()`) as a whole: Prometheus applies each to the selector or
   * subquery under it, and refuses them on anything else.
   */
  private modified(node: SyntaxNode): Checked {
    const modifiers: { name: string; node: SyntaxNode }[] = [];
    let base: SyntaxNode | undefined = node;
    while (base && base.name in selectorModifiers) {
      modifiers.push({ name: selectorModifiers[base.name] ?? base.name, node: base });
      base = expressions(base)[0];
    }
    if (!base) return undefined;
    const counts = new Map<string, number>();
    for (const modifier of modifiers) counts.set(modifier.name, (counts.get(modifier.name) ?? 0) + 1);
    if ((counts.get("offset") ?? 0) > 1) this.error(node, "offset may not be set multiple times");
    if ((counts.get("@") ?? 0) > 1) this.error(node, "@ <timestamp> may not be set multiple times");
    if (counts.has("smoothed") && counts.has("anchored")) {
      this.error(node, "anchored and smoothed modifiers cannot be used together");
    }
    for (const name of new Set(modifiers.map((modifier) => modifier.name))) {
      if (name === "offset" || name === "@") {
        if (!["VectorSelector", "MatrixSelector", "SubqueryExpr"].includes(base.name)) {
          this.error(
            node,
            `${name} modifier must be preceded by an instant vector selector or range vector selector or a subquery`,
          );
        }
      } else if (base.name === "SubqueryExpr") {
        this.error(node, `${name} modifier is not supported for subqueries`);
      } else if (base.name !== "VectorSelector" && base.name !== "MatrixSelector") {
        this.error(node, `${name} modifier not implemented`);
      }
    }
    return this.check(base);
  }

  private binary(node: SyntaxNode): Checked {
    const [lhs, rhs] = expressions(node);
    const operator = children(node).find(
      (candidate) =>
        comparisonOperators.has(candidate.name) ||
        setOperators.has(candidate.name) ||
        arithmeticOperators.has(candidate.name),
    );
    if (!lhs || !rhs || !operator) return undefined;
    const left = this.check(lhs);
    const right = this.check(rhs);
    const op = this.text(operator).toLowerCase();
    const isComparison = comparisonOperators.has(operator.name);
    const isSet = setOperators.has(operator.name);

    if (child(node, "BoolModifier") && !isComparison) {
      this.error(operator, "bool modifier can only be used on comparison operators");
    }
    if (isComparison && !child(node, "BoolModifier") && left === "scalar" && right === "scalar") {
      this.error(operator, "comparisons between scalars must use BOOL modifier");
    }
    if (child(node, "FillModifier"))
      this.error(operator, "binop fill modifiers are experimental and not enabled");

    const matching = child(node, "MatchingModifierClause");
    const matchingLabels = matching ? this.labelsAfter(matching, ["On", "Ignoring"]) : [];
    const includedLabels = matching ? this.labelsAfter(matching, ["GroupLeft", "GroupRight"]) : [];
    const grouped = matching !== undefined && (child(matching, "GroupLeft") ?? child(matching, "GroupRight"));
    if (matching && child(matching, "On")) {
      for (const label of matchingLabels.filter((label) => includedLabels.includes(label))) {
        this.error(operator, `label "${label}" must not occur in ON and GROUP clause at once`);
      }
    }

    for (const [side, type] of [
      [lhs, left],
      [rhs, right],
    ] as const) {
      if (type === "range vector" || type === "string") {
        this.error(side, `binary expression must contain only scalar and instant vector types, got ${type}`);
      }
    }
    const bothKnown = left !== undefined && right !== undefined;
    if (bothKnown && (left !== "instant vector" || right !== "instant vector")) {
      if (matchingLabels.length > 0) this.error(node, "vector matching only allowed between instant vectors");
    } else if (isSet && grouped) {
      this.error(node, `no grouping allowed for "${op}" operation`);
    }
    if (isSet && (left === "scalar" || right === "scalar")) {
      this.error(node, `set operator "${op}" not allowed in binary scalar expression`);
    }

    if (left === "instant vector" || right === "instant vector") return "instant vector";
    return left === "scalar" && right === "scalar" ? "scalar" : undefined;
  }

  /** The labels of the GroupingLabels that follows one of `keywords` in a matching clause. */
  private labelsAfter(matching: SyntaxNode, keywords: readonly string[]): string[] {
    const nodes = children(matching);
    const at = nodes.findIndex((candidate) => keywords.includes(candidate.name));
    const grouping = at === -1 ? undefined : nodes[at + 1];
    if (grouping?.name !== "GroupingLabels") return [];
    return children(grouping).map((label) => this.text(label).replace(/^["'`]|["'`]$/g, ""));
  }

  private aggregation(node: SyntaxNode): Checked {
    const operator = child(node, "AggregateOp");
    const body = child(node, "FunctionCallBody");
    if (!operator || !body) return undefined;
    const op = this.text(operator).toLowerCase();
    const args = expressions(body);
    const types = args.map((arg) => this.check(arg));

    if (experimentalAggregations.has(op)) this.error(node, `${op}() is experimental; ${notEnabled}`);
    if (args.length === 0) {
      this.error(node, "no arguments for aggregate expression provided");
      return "instant vector";
    }
    const parameterType = aggregationParameters[op];
    const expected = parameterType === undefined ? 1 : 2;
    if (args.length !== expected) {
      this.error(
        node,
        `wrong number of arguments for aggregate expression provided, expected ${expected}, got ${args.length}`,
      );
      return "instant vector";
    }
    const parameterActual = types[0];
    if (parameterType !== undefined && parameterActual !== undefined && parameterActual !== parameterType) {
      this.error(
        args[0] ?? node,
        `expected type ${parameterType} in aggregation parameter, got ${parameterActual}`,
      );
    }
    const vectorActual = types[expected - 1];
    if (vectorActual !== undefined && vectorActual !== "instant vector") {
      this.error(
        args[expected - 1] ?? node,
        `expected type instant vector in aggregation expression, got ${vectorActual}`,
      );
    }
    return "instant vector";
  }

  private call(node: SyntaxNode): Checked {
    const identifier = child(node, "FunctionIdentifier");
    const body = child(node, "FunctionCallBody");
    if (!identifier || !body) return undefined;
    const name = this.text(identifier);
    const args = expressions(body);
    const types = args.map((arg) => this.check(arg));
    const signature: PromqlFunction | undefined = promqlFunctions[name];
    if (!signature) {
      this.error(node, `unknown function "${name}"`);
      return undefined;
    }
    if (signature.experimental) this.error(node, `function "${name}" is experimental; ${notEnabled}`);

    const declared = signature.args.length;
    const variadic = signature.variadic ?? 0;
    if (variadic === 0) {
      if (args.length !== declared) {
        this.error(node, `expected ${declared} argument(s) in call to "${name}", got ${args.length}`);
      }
    } else if (args.length < declared - 1) {
      this.error(
        node,
        `expected at least ${declared - 1} argument(s) in call to "${name}", got ${args.length}`,
      );
    } else if (variadic > 0 && args.length > declared - 1 + variadic) {
      this.error(
        node,
        `expected at most ${declared - 1 + variadic} argument(s) in call to "${name}", got ${args.length}`,
      );
    }

    args.forEach((arg, index) => {
      if (index >= declared && variadic === 0) return;
      const expected = signature.args[Math.min(index, declared - 1)];
      const actual = types[index];
      if (expected !== undefined && actual !== undefined && actual !== expected) {
        this.error(arg, `expected type ${expected} in call to function "${name}", got ${actual}`);
      }
    });
    return signature.returns;
  }

  /**
   * A selector without a metric name must have a matcher that the empty string fails, or it would select every
   * series. Matchers whose emptiness cannot be told here (an escape or regex this module does not read) count
   * as non-empty.
   */
  private checkMatchers(node: SyntaxNode): void {
    if (child(node, "Identifier")) return;
    const matchers = child(node, "LabelMatchers");
    const all = matchers ? children(matchers) : [];
    const selectsEverything = all.every((matcher) => {
      const operator = child(matcher, "MatchOp");
      const value = child(matcher, "StringLiteral");
      // A quoted name on its own is the metric name: `{"my.metric"}`.
      if (!operator || !value) return false;
      return this.matchesEmpty(this.text(operator), goUnquote(this.text(value)));
    });
    if (selectsEverything) this.error(node, "vector selector must contain at least one non-empty matcher");
  }

  private matchesEmpty(operator: string, value: string | undefined): boolean {
    if (value === undefined) return false;
    switch (operator) {
      case "=":
        return value === "";
      case "!=":
        return value !== "";
      case "=~":
        return regexMatchesEmpty(value) === true;
      case "!~":
        return regexMatchesEmpty(value) === false;
      default:
        return false;
    }
  }
}

/** Whether Prometheus's fully anchored regex matches ""; undefined when JavaScript cannot read it as RE2 would. */
function regexMatchesEmpty(pattern: string): boolean | undefined {
  try {
    return new RegExp(`^(?:${pattern})$`, "s").test("");
  } catch {
    return undefined;
  }
}

const goEscapes: Readonly<Record<string, string>> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
  "'": "'",
  '"': '"',
};

/** The value of a PromQL (Go) string literal; undefined for an escape this does not decode. */
function goUnquote(literal: string): string | undefined {
  const quote = literal[0];
  const inner = literal.slice(1, -1);
  if (quote === "`") return inner;
  let value = "";
  for (let i = 0; i < inner.length; i++) {
    const char = inner[i] ?? "";
    if (char !== "\\") {
      value += char;
      continue;
    }
    const escaped = goEscapes[inner[i + 1] ?? ""];
    if (escaped === undefined) return undefined;
    value += escaped;
    i++;
  }
  return value;
}
