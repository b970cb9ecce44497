/**
 * Which labels every series of a PromQL expression's result carries, read from the expression: what a panel's
 * `by (...)` promises its legend. Prometheus raises no error for a label that does not exist: `sum by (rout)`
 * returns one series without `rout`, which a check for "some data" accepts. Comparing the labels of the
 * returned series with these catches it.
 *
 * The answer is a lower bound: it follows how each construct passes labels on, and where that depends on the
 * data (a plain selector, `group_left`'s extra labels) it promises nothing.
 */
import { parser } from "@prometheus-io/lezer-promql";

type SyntaxNode = ReturnType<typeof parser.parse>["topNode"];

/** The labels every series of `expr`'s result carries, sorted; throws if `expr` is not valid PromQL. */
export function resultLabels(expr: string): string[] {
  const tree = parser.parse(expr);
  tree.iterate({
    enter(node) {
      if (node.type.isError) throw new Error(`not valid PromQL at offset ${node.from}: ${expr}`);
    },
  });
  const [top, ...rest] = expressions(tree.topNode);
  if (top === undefined || rest.length > 0) throw new Error(`not one PromQL expression: ${expr}`);
  return [...labelsOf(top, expr)].sort();
}

/** Aggregations that return some of their input series as they are, rather than one series per group. */
const selectingAggregations = new Set(["Topk", "Bottomk", "LimitK", "LimitRatio"]);

/** Functions whose result does not carry the labels of their arguments' series. */
const unlabelledFunctions = new Set(["Vector", "Scalar", "Time", "Pi", "Absent", "AbsentOverTime"]);

/** Functions that merge the `le` buckets of classic histograms into one series per bucket set. */
const bucketMergingFunctions = new Set(["HistogramQuantile", "HistogramFraction"]);

/** Functions that set a label named by their second argument, which may also remove it. */
const labelWritingFunctions = new Set(["LabelReplace", "LabelJoin"]);

const bucketLabel = "le";

function labelsOf(node: SyntaxNode, text: string): ReadonlySet<string> {
  switch (node.name) {
    case "AggregateExpr":
      return aggregationLabels(node, text);
    case "FunctionCall":
      return functionLabels(node, text);
    case "BinaryExpr":
      return binaryLabels(node, text);
    case "VectorSelector":
    case "MatrixSelector":
    case "NumberDurationLiteral":
    case "StringLiteral":
      return new Set();
    default: {
      // ParenExpr, UnaryExpr, OffsetExpr, SubqueryExpr, StepInvariantExpr...: the labels of what they wrap.
      const [inner, ...rest] = expressions(node);
      if (inner === undefined || rest.length > 0) {
        throw new Error(`${node.name} wraps ${rest.length + (inner ? 1 : 0)} expressions in ${text}`);
      }
      return labelsOf(inner, text);
    }
  }
}

function aggregationLabels(node: SyntaxNode, text: string): ReadonlySet<string> {
  const operator = node.getChild("AggregateOp")?.firstChild?.name ?? "";
  const args = expressions(node.getChild("FunctionCallBody"));
  const input = args.at(-1);
  const inputLabels = input ? labelsOf(input, text) : new Set<string>();
  if (selectingAggregations.has(operator)) return inputLabels;
  const modifier = node.getChild("AggregateModifier");
  const grouping = labelNames(modifier?.getChild("GroupingLabels") ?? null, text);
  const labels = modifier?.getChild("By")
    ? new Set(grouping)
    : modifier
      ? difference(inputLabels, grouping)
      : new Set<string>();
  // count_values("label", v) adds a label holding each value it counts.
  const [valueLabel] = args;
  if (operator === "CountValues" && valueLabel?.name === "StringLiteral")
    labels.add(unquote(valueLabel, text));
  return labels;
}

function functionLabels(node: SyntaxNode, text: string): ReadonlySet<string> {
  const name = node.getChild("FunctionIdentifier")?.firstChild?.name ?? "";
  if (unlabelledFunctions.has(name)) return new Set();
  const args = expressions(node.getChild("FunctionCallBody"));
  const labels = union(args.map((arg) => labelsOf(arg, text)));
  if (bucketMergingFunctions.has(name)) labels.delete(bucketLabel);
  const target = args[1];
  if (labelWritingFunctions.has(name) && target?.name === "StringLiteral")
    labels.delete(unquote(target, text));
  return labels;
}

function binaryLabels(node: SyntaxNode, text: string): ReadonlySet<string> {
  const [left, right] = expressions(node);
  if (left === undefined || right === undefined)
    throw new Error(`a binary operation without two sides in ${text}`);
  const leftLabels = labelsOf(left, text);
  const rightLabels = labelsOf(right, text);
  // Either side's series may be returned: only what both carry is certain.
  if (node.getChild("Or")) return intersection(leftLabels, rightLabels);
  if (node.getChild("And") || node.getChild("Unless")) return leftLabels;
  const matching = node.getChild("MatchingModifierClause");
  if (matching?.getChild("GroupLeft")) return leftLabels;
  if (matching?.getChild("GroupRight")) return rightLabels;
  // One to one, or against a scalar (which has no labels): matched series agree on every label, so the result
  // carries what either side carries; `on` keeps only its labels, `ignoring` drops its labels.
  const both = union([leftLabels, rightLabels]);
  if (!matching) return both;
  const listed = labelNames(matching.getChild("GroupingLabels"), text);
  return matching.getChild("On") ? intersection(both, new Set(listed)) : difference(both, listed);
}

/** The child nodes of `node` that are expressions, in order. */
function expressions(node: SyntaxNode | null): SyntaxNode[] {
  const found: SyntaxNode[] = [];
  for (let child = node?.firstChild ?? null; child !== null; child = child.nextSibling) {
    if (child.type.is("Expr")) found.push(child);
  }
  return found;
}

/** The names in `(a, "b")`. */
function labelNames(grouping: SyntaxNode | null, text: string): string[] {
  const names: string[] = [];
  for (let child = grouping?.firstChild ?? null; child !== null; child = child.nextSibling) {
    if (child.name === "LabelName") names.push(text.slice(child.from, child.to));
    else if (child.name === "QuotedLabelName") names.push(unquote(child, text));
  }
  return names;
}

/** The content of a quoted label name or string; escapes are refused rather than decoded wrongly. */
function unquote(node: SyntaxNode, text: string): string {
  const quoted = text.slice(node.from, node.to);
  if (quoted.includes("\\")) throw new Error(`escape sequences in ${quoted} are not supported`);
  return quoted.slice(1, -1);
}

function union(sets: readonly ReadonlySet<string>[]): Set<string> {
  return new Set(sets.flatMap((set) => [...set]));
}

function intersection(a: ReadonlySet<string>, b: ReadonlySet<string>): Set<string> {
  return new Set([...a].filter((label) => b.has(label)));
}

function difference(a: ReadonlySet<string>, remove: readonly string[]): Set<string> {
  return new Set([...a].filter((label) => !remove.includes(label)));
}
