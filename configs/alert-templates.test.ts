import { expect } from "chai";
import { requireBinaries } from "../test-support/binaries";
import { promtoolRuleErrors } from "../test-support/promtool";
import { alertTemplateErrors } from "./alert-templates";
import { loadSettings } from "./load";
import { alertRules } from "./rules";
import { generatedYaml } from "./yaml";

/** The annotations of every built-in rule: the templates the stack itself writes. */
function builtInTemplates(): string[] {
  const { settings } = loadSettings({});
  return alertRules(settings).flatMap((rule) => Object.values(rule.annotations));
}

const valid = [
  "The queue holds {{ $value | humanize }} items on {{ $labels.instance }}.",
  "{{ $labels.job }} answers {{ $value | humanizePercentage }} of requests with 5xx.",
  "{{ with $labels.job }}job {{ . }}{{ end }}",
  "{{ if gt $value 0.5 }}high{{ else if gt $value 0.2 }}raised{{ else }}low{{ end }}",
  "{{ range $key, $label := $labels }}{{ $key }}={{ $label }} {{ end }}",
  "{{ range $labels }}{{ break }}{{ end }}",
  '{{ printf `%.2f` $value }} {{ index $labels "job" }} {{ len $labels }}',
  '{{ reReplaceAll "(.*):.*" "$1" $labels.instance }} {{ $labels.instance | stripPort | toUpper }}',
  '{{ with query "up == 0" }}{{ . | first | value | humanize }}{{ end }}',
  '{{ humanizeDuration 90 }} {{ humanize1024 2048 }} {{ humanizeTimestamp 0 }} {{ title "a" }}',
  "{{ $externalURL }} {{ $externalLabels.cluster }} {{ .Labels.job }} {{ $.Value }}",
  "{{ $x := 1 }}{{ $x = 2 }}{{ $x }}",
  "{{/* a comment */}}text{{- /* trimmed */ -}} more",
  '{{ "}}" }} and a stray }} in text',
  "{{ -1 }} {{ 1.5e3 }} {{ 0x1F }} {{ 'a' }} {{ true }}",
  '{{ define "detail" }}x{{ end }}{{ template "detail" }}',
  "{{ $labels.instance\n}}",
  "100% plain text, no action at all",
];

/** Templates Prometheus refuses, with what is said. */
const invalid: readonly (readonly [template: string, says: string])[] = [
  ["{{ $value | humanise }} {{ $labels.instance", 'function "humanise" not defined'],
  ["Instance {{ $labels.instance", "unclosed action"],
  ['{{ tmpl "x" . }}', 'function "tmpl" not defined'],
  ["{{ x.y }}", 'function "x" not defined'],
  ["{{ $foo }}", 'undefined variable "$foo"'],
  ["{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}", 'undefined variable "$y"'],
  ["{{ with $x := 1 }}{{ $x }}{{ end }}{{ $x }}", 'undefined variable "$x"'],
  ['{{ define "x" }}{{ $labels }}{{ end }}', 'undefined variable "$labels"'],
  ["{{ if $value }}high", "unexpected EOF"],
  ["{{ end }}", "unexpected {{end}}"],
  ["{{ else }}", "unexpected {{else}}"],
  ["{{ if 1 }}{{ else }}{{ else }}{{ end }}", "expected end"],
  ["{{ break }}", "{{break}} outside {{range}}"],
  ["{{}}", "missing value for command"],
  ["{{ if }}x{{ end }}", "missing value for if"],
  ["{{ (1 }}", "unclosed left paren"],
  ["{{ 1) }}", "unexpected right paren"],
  ["{{ $labels : 1 }}", "expected :="],
  ["{{ humanise (1 }}", 'function "humanise" not defined'],
  ['{{ "abc }}', "unterminated quoted string"],
  ["{{ `abc }}", "unterminated raw quoted string"],
  ["{{/* a comment }}", "unclosed comment"],
  ["{{/* a comment */ x }}", "comment ends before closing delimiter"],
];

describe("alertTemplateErrors", () => {
  for (const template of [...valid, ...builtInTemplates()]) {
    it(`accepts ${JSON.stringify(template)}`, () => {
      expect(alertTemplateErrors(template)).to.deep.equal([]);
    });
  }

  for (const [template, says] of invalid) {
    it(`rejects ${JSON.stringify(template)}: ${says}`, () => {
      expect(alertTemplateErrors(template).join("; ")).to.include(says);
    });
  }

  describe("agrees with Prometheus (promtool)", function () {
    this.timeout(30_000);
    let promtool: string;

    before(function () {
      ({ promtool } = requireBinaries(this, "promtool"));
    });

    /** What promtool says of each template as the description of an alert of its own. */
    async function promtoolSays(templates: readonly string[]): Promise<(string | undefined)[]> {
      const name = (i: number) => `Alert${i}`;
      const rules = templates.map((description, i) => ({
        alert: name(i),
        expr: "vector(1)",
        annotations: { description },
      }));
      const errors = await promtoolRuleErrors(
        promtool,
        generatedYaml({ groups: [{ name: "templates", rules }] }),
      );
      return templates.map((_, i) => errors.get(name(i)));
    }

    it("loads every template it accepts", async () => {
      const templates = [...valid, ...builtInTemplates()];
      const verdicts = await promtoolSays(templates);
      expect(
        templates.flatMap((template, i) =>
          verdicts[i] === undefined ? [] : [`${template}: ${verdicts[i]}`],
        ),
      ).to.deep.equal([]);
    });

    it("refuses every template it rejects, with the same error", async () => {
      const verdicts = await promtoolSays(invalid.map(([template]) => template));
      invalid.forEach(([template, says], i) => {
        expect(verdicts[i], template).to.be.a("string");
        const first = alertTemplateErrors(template)[0] ?? "";
        // Prometheus's wording, up to the explanation this module adds after a colon.
        expect(verdicts[i], template).to.include(first.split(": ")[0] ?? says);
      });
    });
  });
});
