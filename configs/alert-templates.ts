/**
 * The parse checks Prometheus makes on an alert's annotations when it loads a rule file: each is a Go
 * text/template, parsed with the functions of Prometheus's alert templates and the variables it declares in
 * front of it (`testTemplateParsing` in model/rulefmt/rulefmt.go). A description with `{{ $value | humanise }}`
 * or an unclosed `{{` makes Prometheus refuse the whole file, so every replica would crash-loop on it.
 *
 * This reads the template the way Go's text/template lexer does and reports the errors its parser reports:
 * unclosed actions, comments and parentheses, undefined functions and variables, and unbalanced
 * `if`/`range`/`with`/`define`/`block` ... `end`. It is not a full parser: what it does not check it accepts,
 * so every problem it reports is one Prometheus reports too.
 */

/**
 * The functions of Prometheus's alert templates (Prometheus v3.16.0, template/template.go,
 * `NewTemplateExpander`). `tmpl` is not one: it exists only in console templates.
 */
const prometheusTemplateFunctions = [
  "args",
  "externalURL",
  "first",
  "graphLink",
  "humanize",
  "humanize1024",
  "humanizeDuration",
  "humanizePercentage",
  "humanizeTimestamp",
  "label",
  "match",
  "now",
  "parseDuration",
  "pathPrefix",
  "query",
  "reReplaceAll",
  "safeHtml",
  "sortByLabel",
  "stripDomain",
  "stripPort",
  "strvalue",
  "tableLink",
  "title",
  "toDuration",
  "toLower",
  "toTime",
  "toUpper",
  "urlQueryEscape",
  "value",
];

/** Go's text/template builtins (text/template/funcs.go). */
const goTemplateBuiltins = [
  "and",
  "call",
  "eq",
  "ge",
  "gt",
  "html",
  "index",
  "js",
  "le",
  "len",
  "lt",
  "ne",
  "not",
  "or",
  "print",
  "printf",
  "println",
  "slice",
  "urlquery",
];

const templateFunctions = new Set([...prometheusTemplateFunctions, ...goTemplateBuiltins]);

/** The variables Prometheus declares before an alert's annotation, and `$`, which every template has. */
const predeclaredVariables = ["$", "$labels", "$externalLabels", "$externalURL", "$value"];

/** Words that are not function names: keywords, and the constants. */
const keywords = new Set([
  "block",
  "break",
  "continue",
  "define",
  "else",
  "end",
  "if",
  "range",
  "template",
  "with",
]);
const constants = new Set(["true", "false", "nil"]);

/** A control structure that an `{{ end }}` closes. */
interface Frame {
  readonly keyword: string;
  /** Variables declared before it opened; the rest go out of scope at its end. */
  readonly variables: readonly string[];
  /** Whether a plain `{{ else }}` was seen, after which no other may follow. */
  sawElse: boolean;
}

/** What the checks need of Go's tokens: names, and the `:=` or `=` that declares the names before it. */
type Token =
  | { readonly kind: "identifier" | "variable"; readonly text: string }
  | { readonly kind: "declare" | "assign" | "other" };

/** Why Prometheus would refuse the template; empty when it would parse it. */
export function alertTemplateErrors(template: string): string[] {
  try {
    checkTemplate(template);
    return [];
  } catch (error) {
    if (error instanceof TemplateError) return [error.message];
    throw error;
  }
}

/** The first error of a template, as Go stops at its first. */
class TemplateError extends Error {}

const isSpace = (char: string | undefined) => char === " " || char === "\t" || char === "\r" || char === "\n";

function checkTemplate(template: string): void {
  let variables = [...predeclaredVariables];
  const frames: Frame[] = [];
  let position = 0;

  for (;;) {
    const open = template.indexOf("{{", position);
    if (open === -1) break;
    let start = open + 2;
    if (template[start] === "-" && isSpace(template[start + 1])) start += 2;
    if (template.startsWith("/*", start)) {
      position = endOfComment(template, start);
      continue;
    }
    const action = lexAction(template, start);
    const { tokens } = action;
    if ("error" in action) {
      // Go's parser reads the tokens before the lexer's error first, and may stop at one of them.
      pipeline(tokens, variables);
      throw action.error;
    }
    position = action.end;
    const leading = tokens[0];
    if (leading?.kind === "identifier" && keywords.has(leading.text)) {
      variables = control(leading.text, tokens.slice(1), frames, variables);
    } else {
      if (tokens.length === 0) throw new TemplateError("missing value for command");
      pipeline(tokens, variables);
    }
  }
  if (frames.length > 0)
    throw new TemplateError(`unexpected EOF: {{ ${frames.at(-1)?.keyword} }} has no {{ end }}`);
}

/** Handles an action that starts with a keyword; returns the variables in scope after it. */
function control(keyword: string, rest: Token[], frames: Frame[], variables: string[]): string[] {
  const top = frames.at(-1);
  switch (keyword) {
    case "if":
    case "range":
    case "with": {
      if (rest.length === 0) throw new TemplateError(`missing value for ${keyword}`);
      frames.push({ keyword, variables: [...variables], sawElse: false });
      return pipeline(rest, variables);
    }
    case "define":
    case "block": {
      // A template of its own: only `$` is declared inside it.
      frames.push({ keyword, variables: [...variables], sawElse: false });
      if (keyword === "block") pipeline(rest.slice(1), variables);
      return ["$"];
    }
    case "else": {
      if (!top || !["if", "range", "with"].includes(top.keyword))
        throw new TemplateError("unexpected {{else}}");
      if (top.sawElse)
        throw new TemplateError(
          `expected end; found {{else}}: this {{${top.keyword}}} has its {{else}} already`,
        );
      const chained = rest[0];
      if (chained?.kind === "identifier" && (chained.text === "if" || chained.text === "with")) {
        if (rest.length === 1) throw new TemplateError(`missing value for ${chained.text}`);
        return pipeline(rest.slice(1), variables);
      }
      top.sawElse = true;
      return variables;
    }
    case "end": {
      const closed = frames.pop();
      if (!closed) throw new TemplateError("unexpected {{end}}");
      return [...closed.variables];
    }
    case "break":
    case "continue":
      if (!frames.some((frame) => frame.keyword === "range")) {
        throw new TemplateError(`{{${keyword}}} outside {{range}}`);
      }
      return variables;
    default:
      // `template "name" pipeline`: the name is a string, the rest a pipeline.
      pipeline(rest.slice(1), variables);
      return variables;
  }
}

/**
 * Checks the names in a pipeline, after declaring its variables (`$x :=`, `$i, $e :=`), as Go's parser does;
 * it declares an assigned one (`$x =`) too, leaving to execution whether it existed. Returns the variables in
 * scope after it.
 */
function pipeline(tokens: Token[], variables: string[]): string[] {
  const declaration = tokens.findIndex((token) => token.kind === "declare" || token.kind === "assign");
  for (const target of tokens.slice(0, Math.max(declaration, 0))) {
    if (target.kind === "variable") variables.push(target.text);
  }
  for (const token of tokens.slice(declaration + 1)) {
    if (token.kind === "variable" && !variables.includes(token.text)) {
      throw new TemplateError(`undefined variable "${token.text}"`);
    }
    if (token.kind === "identifier" && !constants.has(token.text) && !keywords.has(token.text)) {
      if (!templateFunctions.has(token.text)) throw new TemplateError(`function "${token.text}" not defined`);
    }
  }
  return variables;
}

/** Where the text resumes after a comment that starts at `start` (on its opening slash). */
function endOfComment(template: string, start: number): number {
  const close = template.indexOf("*/", start + 2);
  if (close === -1) throw new TemplateError("unclosed comment");
  const delimiter = atRightDelimiter(template, close + 2);
  if (delimiter === undefined) throw new TemplateError("comment ends before closing delimiter");
  return delimiter;
}

/** The position after `}}` (or ` -}}`) when one starts at `position`. */
function atRightDelimiter(template: string, position: number): number | undefined {
  if (
    isSpace(template[position]) &&
    template[position + 1] === "-" &&
    template.startsWith("}}", position + 2)
  ) {
    return position + 4;
  }
  return template.startsWith("}}", position) ? position + 2 : undefined;
}

const alphanumeric = /[\p{L}\p{N}_]/u;

/** An action's tokens, and the position after its closing delimiter or the error that ended it. */
type LexedAction = { tokens: Token[]; end: number } | { tokens: Token[]; error: TemplateError };

/** The tokens of the action that starts at `start`. */
function lexAction(template: string, start: number): LexedAction {
  const tokens: Token[] = [];
  try {
    return { tokens, end: lexTokens(template, start, tokens) };
  } catch (error) {
    if (error instanceof TemplateError) return { tokens, error };
    throw error;
  }
}

/** Appends the tokens of the action that starts at `start` to `tokens`; returns the position after it. */
function lexTokens(template: string, start: number, tokens: Token[]): number {
  let depth = 0;
  let i = start;
  const word = (from: number) => {
    let to = from;
    while (to < template.length && alphanumeric.test(template[to] ?? "")) to++;
    return to;
  };
  for (;;) {
    const end = atRightDelimiter(template, i);
    if (end !== undefined) {
      if (depth > 0) throw new TemplateError("unclosed left paren");
      return end;
    }
    const char = template[i];
    if (char === undefined) throw new TemplateError("unclosed action");
    if (isSpace(char)) {
      i++;
    } else if (char === "=") {
      tokens.push({ kind: "assign" });
      i++;
    } else if (char === ":") {
      if (template[i + 1] !== "=") throw new TemplateError("expected :=");
      tokens.push({ kind: "declare" });
      i += 2;
    } else if (char === '"' || char === "'") {
      i = endOfQuoted(template, i);
      tokens.push({ kind: "other" });
    } else if (char === "`") {
      const close = template.indexOf("`", i + 1);
      if (close === -1) throw new TemplateError("unterminated raw quoted string");
      i = close + 1;
      tokens.push({ kind: "other" });
    } else if (char === "$") {
      const to = word(i + 1);
      tokens.push({ kind: "variable", text: template.slice(i, to) });
      i = to;
    } else if (char === "." && !/[0-9]/.test(template[i + 1] ?? "")) {
      // A field (`.Labels`) or the dot itself.
      i = word(i + 1);
      tokens.push({ kind: "other" });
    } else if (/[+\-.0-9]/.test(char)) {
      i = endOfNumber(template, i);
      tokens.push({ kind: "other" });
    } else if (alphanumeric.test(char)) {
      const to = word(i);
      tokens.push({ kind: "identifier", text: template.slice(i, to) });
      i = to;
    } else if (char === "(") {
      depth++;
      tokens.push({ kind: "other" });
      i++;
    } else if (char === ")") {
      depth--;
      if (depth < 0) throw new TemplateError("unexpected right paren");
      tokens.push({ kind: "other" });
      i++;
    } else {
      // A pipe, a comma, or another character Go's parser judges in context.
      tokens.push({ kind: "other" });
      i++;
    }
  }
}

/** The position after a "..." string or '.' character constant that starts at `start`. */
function endOfQuoted(template: string, start: number): number {
  const quote = template[start];
  for (let i = start + 1; ; i++) {
    const char = template[i];
    if (char === undefined || char === "\n") {
      throw new TemplateError(
        quote === '"' ? "unterminated quoted string" : "unterminated character constant",
      );
    }
    if (char === "\\") i++;
    else if (char === quote) return i + 1;
  }
}

/** The position after a number (`1`, `-2.5e3`, `0x1F`, `1i`); its syntax is left to Go. */
function endOfNumber(template: string, start: number): number {
  let i = start;
  if (template[i] === "+" || template[i] === "-") i++;
  while (i < template.length) {
    const char = template[i] ?? "";
    const previous = template[i - 1] ?? "";
    if (/[0-9A-Za-z_.]/.test(char) || (/[+-]/.test(char) && /[eEpP]/.test(previous))) i++;
    else break;
  }
  return i;
}
