import { expect } from "chai";
import { requireBinaries } from "../../test-support/binaries";
import { promtoolRuleErrors } from "../../test-support/promtool";
import { alertRules } from "../prometheus/rules";
import { loadSettings } from "../validate";
import { generatedYaml } from "../yaml";
import { alertTemplateErrors } from "./alert-templates";

/** The annotations of every built-in rule: the templates the stack itself writes. */
function builtInTemplates(): string[] {
  const { settings } = loadSettings({});
  return alertRules(settings).flatMap((rule) => Object.values(rule.annotations));
}

const valid = [
  "The queue holds {{ $value | humanize }} items on {{ $labels.instance }}.",
  "{{ $labels.job }} answers {{ $value | humanizePercentage }} of requests with 5xx.",
  "{{ humanizeDuration $value }} behind, {{ $value|humanize1024 }}B, since {{ $value | humanizeTimestamp }}",
  "{{$value}} on {{$labels.__name__}}",
  "{{ $labels.instance\n}}",
  "a stray }} in text",
  "100% plain text, no action at all",
];

/** Templates outside the subset, with what is said. */
const invalid: readonly (readonly [template: string, says: string])[] = [
  ["{{ $value | humanise }} {{ $labels.instance", '"humanise" is not a humanize function'],
  ["Instance {{ $labels.instance", 'column 10: "{{" is not closed by "}}"'],
  ["{{ $foo }}", "{{ $foo }} is not allowed"],
  ["{{ $labels }}", "is not allowed"],
  ["{{ $labels.job-name }}", "is not allowed"],
  ["{{ if gt $value 1.0 }}high{{ end }}", "column 1: {{ if gt $value 1.0 }} is not allowed"],
  ['{{ with query "up" }}{{ . }}{{ end }}', "is not allowed"],
  ["{{ $value | humanize | toUpper }}", "is not allowed"],
  ["{{ humanize }}", "is not allowed"],
  ["{{}}", "{{}} is not allowed"],
  ["{{/* a comment */}}", "is not allowed"],
  ["ok {{ $value }} then {{ .Value }}", "column 22: {{ .Value }} is not allowed"],
];

/** Templates of the invalid list that Prometheus refuses too: the subset keeps these from every replica. */
const refusedByPrometheus = [
  "{{ $value | humanise }} {{ $labels.instance",
  "Instance {{ $labels.instance",
  "{{ $foo }}",
  "{{}}",
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

    it("refuses the broken templates it rejects", async () => {
      const verdicts = await promtoolSays(refusedByPrometheus);
      refusedByPrometheus.forEach((template, i) => {
        expect(verdicts[i], template).to.be.a("string");
      });
    });
  });
});
