/**
 * The annotations of custom alerts are Go templates that Prometheus expands, and refuses to load when they do
 * not parse: a bad one would crash-loop every replica. Rather than judge all of Go's template language, custom
 * alerts may use a small subset, which always parses and always expands: plain text, `{{ $labels.<name> }}`,
 * `{{ $value }}`, and `$value` through one of the humanize functions of Prometheus's template reference
 * (`{{ $value | humanize }}` or `{{ humanize $value }}`).
 */

const humanizeFunctions = [
  "humanize",
  "humanize1024",
  "humanizeDuration",
  "humanizePercentage",
  "humanizeTimestamp",
] as const;

const labelName = "[a-zA-Z_][a-zA-Z0-9_]*";
const humanize = `(?:${humanizeFunctions.join("|")})`;

/** The inside of an allowed action, `{{` and `}}` left out; Go allows any white space between the words. */
const allowedAction = new RegExp(
  `^\\s*(?:\\$labels\\.${labelName}|\\$value(?:\\s*\\|\\s*${humanize})?|${humanize}\\s+\\$value)\\s*$`,
);

export const allowedTemplates = `plain text, {{ $labels.<name> }}, {{ $value }} and {{ $value | <function> }} or {{ <function> $value }} with one of ${humanizeFunctions.join(", ")}`;

/** Why a custom alert's template is outside the allowed subset, each with its column; empty when it is inside. */
export function alertTemplateErrors(template: string): string[] {
  const errors: string[] = [];
  for (let open = template.indexOf("{{"); open !== -1; ) {
    const close = template.indexOf("}}", open + 2);
    const column = open + 1;
    if (close === -1) {
      errors.push(`column ${column}: "{{" is not closed by "}}"`);
      break;
    }
    const action = template.slice(open + 2, close);
    if (!allowedAction.test(action)) {
      const piped = /^\s*\$value\s*\|\s*(\S+)\s*$/.exec(action)?.[1];
      errors.push(
        piped === undefined
          ? `column ${column}: {{${action}}} is not allowed`
          : `column ${column}: "${piped}" is not a humanize function`,
      );
    }
    open = template.indexOf("{{", close + 2);
  }
  return errors;
}
