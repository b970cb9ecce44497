/**
 * Alertmanager's e-mail subject and bodies, as Go template text embedded in alertmanager.yml. Inline templates
 * keep the rendered config a single self-contained file. The subject leads with the status so that a firing
 * and a resolved e-mail differ in the first word a reader sees; each body lists every alert of the group with
 * its severity, summary, description, value, labels and links to where it can be investigated.
 */
import { annotationKeys } from "../names";

/** A link added to every e-mail: where a reader goes to investigate, beside each alert's own source link. */
export interface ConsoleLink {
  /** Plain text written into the template as is. */
  readonly label: string;
  /** Comes from the endpoints, so it is quoted rather than trusted to hold no template syntax. */
  readonly url: string;
}

/**
 * A Go string literal in template action syntax, so that the text is output verbatim and never parsed as
 * template code. JSON string syntax is a subset of Go's interpreted string literals.
 */
function goLiteral(text: string): string {
  return `{{ ${JSON.stringify(text)} }}`;
}

const dateFormat = `"2006-01-02 15:04:05 UTC"`;
const firingColor = "#cf222e";
const resolvedColor = "#1a7f37";
/** Labels already shown on their own line, left out of the label list. */
const labelsShownApart = `(stringSlice "alertname" "severity")`;

/** `[FIRING:2] HighLatency (warning) job=app: p95 latency above 0.5s` or `[RESOLVED] HighLatency ...`. */
export const emailSubject = [
  `[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ len .Alerts.Firing }}{{ end }}]`,
  ` {{ .GroupLabels.alertname }}`,
  `{{ with .CommonLabels.severity }} ({{ . }}){{ end }}`,
  `{{ with .GroupLabels.job }} job={{ . }}{{ end }}`,
  `{{ with .CommonAnnotations.${annotationKeys.summary} }}: {{ . }}{{ end }}`,
].join("");

const groupHeadline = [
  `{{ if eq .Status "firing" }}{{ len .Alerts.Firing }} firing{{ with .Alerts.Resolved }}, {{ len . }} resolved{{ end }}`,
  `{{ else }}Resolved{{ end }}: {{ .GroupLabels.alertname }}{{ with .GroupLabels.job }} (job {{ . }}){{ end }}`,
].join("");

export function emailText(links: readonly ConsoleLink[]): string {
  return [
    groupHeadline,
    `{{ range .Alerts }}`,
    `[{{ .Status | toUpper }}] {{ .Labels.alertname }}`,
    `Severity:    {{ or .Labels.severity "none" }}`,
    `{{- with .Annotations.${annotationKeys.summary} }}`,
    `Summary:     {{ . }}`,
    `{{- end }}`,
    `{{- with .Annotations.${annotationKeys.description} }}`,
    `Description: {{ . }}`,
    `{{- end }}`,
    `{{- with .Annotations.${annotationKeys.value} }}`,
    `Value:       {{ . }}`,
    `{{- end }}`,
    `Started:     {{ .StartsAt.UTC.Format ${dateFormat} }}`,
    `{{- if eq .Status "resolved" }}`,
    `Resolved:    {{ .EndsAt.UTC.Format ${dateFormat} }}`,
    `{{- end }}`,
    `{{- with .Labels.Remove ${labelsShownApart} }}`,
    `Labels:      {{ range $i, $pair := .SortedPairs }}{{ if $i }}, {{ end }}{{ $pair.Name }}={{ $pair.Value }}{{ end }}`,
    `{{- end }}`,
    `{{- with .Annotations.${annotationKeys.runbookUrl} }}`,
    `Runbook:     {{ . }}`,
    `{{- end }}`,
    `{{- with .GeneratorURL }}`,
    `Source:      {{ . }}`,
    `{{- end }}`,
    `{{ end }}`,
    ...links.map((link) => `${link.label}: ${goLiteral(link.url)}`),
    "",
  ].join("\n");
}

function row(header: string, value: string): string {
  return `<tr><th style="text-align: left; vertical-align: top; padding: 2px 12px 2px 0;">${header}</th><td style="white-space: pre-wrap;">${value}</td></tr>`;
}

/**
 * A runbook_url is a link only when it is an absolute http(s) URL (`runbook.url` set); otherwise it is the
 * runbook's path in the repository, which a mail client would resolve against nothing, so it stays text.
 * `match` is Go's regexp.MatchString, one of Alertmanager's template functions.
 */
const runbookCell = `{{ if match "^https?://" . }}<a href="{{ . }}">{{ . }}</a>{{ else }}{{ . }}{{ end }}`;

const statusColor = `{{ if eq .Status "firing" }}${firingColor}{{ else }}${resolvedColor}{{ end }}`;

export function emailHtml(links: readonly ConsoleLink[]): string {
  return [
    `<!DOCTYPE html>`,
    `<html>`,
    `<body style="font-family: Helvetica, Arial, sans-serif; font-size: 14px; color: #1f2328;">`,
    `<h2 style="margin: 0 0 16px; color: ${statusColor};">${groupHeadline}</h2>`,
    `{{ range .Alerts }}`,
    `<table style="border-collapse: collapse; margin: 0 0 16px; padding-left: 8px; border-left: 4px solid ${statusColor};">`,
    row("Alert", `<strong>[{{ .Status | toUpper }}] {{ .Labels.alertname }}</strong>`),
    row("Severity", `{{ or .Labels.severity "none" }}`),
    `{{ with .Annotations.${annotationKeys.summary} }}${row("Summary", "{{ . }}")}{{ end }}`,
    `{{ with .Annotations.${annotationKeys.description} }}${row("Description", "{{ . }}")}{{ end }}`,
    `{{ with .Annotations.${annotationKeys.value} }}${row("Value", "{{ . }}")}{{ end }}`,
    row("Started", `{{ .StartsAt.UTC.Format ${dateFormat} }}`),
    `{{ if eq .Status "resolved" }}${row("Resolved", `{{ .EndsAt.UTC.Format ${dateFormat} }}`)}{{ end }}`,
    `{{ with .Labels.Remove ${labelsShownApart} }}${row("Labels", "{{ range .SortedPairs }}<code>{{ .Name }}={{ .Value }}</code> {{ end }}")}{{ end }}`,
    `{{ with .Annotations.${annotationKeys.runbookUrl} }}${row("Runbook", runbookCell)}{{ end }}`,
    `{{ with .GeneratorURL }}${row("Source", `<a href="{{ . }}">Graph in Prometheus</a>`)}{{ end }}`,
    `</table>`,
    `{{ end }}`,
    `<p>${links.map((link) => `<a href="${goLiteral(link.url)}">${link.label}</a>`).join(" &middot; ")}</p>`,
    `</body>`,
    `</html>`,
  ].join("\n");
}
