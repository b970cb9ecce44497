/**
 * `npm run check-delivery -- --alertmanager <url> [--inbox <url>] [--timeout <duration>]`: proves that an alert
 * reaches a person. Posts one DeliveryCheck alert to Alertmanager, waits for its e-mail (in Mailpit with
 * `--inbox`, otherwise until Alertmanager counts it accepted by the smarthost), then resolves the alert.
 * Exits 0 when delivered, 1 when not (with Alertmanager's reason), 2 when Alertmanager cannot be reached.
 */
import { parseArgs } from "node:util";
import { durationMs, formatDuration } from "../configs/settings/duration";
import { defaultTimeoutMs, exitCodeOf, runDeliveryCheck } from "../infra/delivery/check";
import { mailpitInbox } from "../infra/delivery/inbox";
import { containerLog, logFile } from "../infra/delivery/logs";

const usage = `Usage: npm run check-delivery -- --alertmanager <url> [options]

Sends one test alert (DeliveryCheck, severity info) through Alertmanager and waits for its e-mail.

  --alertmanager <url>            Alertmanager's URL, such as http://127.0.0.1:9093 (required)
  --inbox <url>                   Mailpit's web URL, such as http://127.0.0.1:8025: wait for the message there;
                                  without it, wait until Alertmanager counts the e-mail accepted by the smarthost
  --timeout <duration>            how long to wait for the e-mail (default: ${formatDuration(defaultTimeoutMs)})
  --alertmanager-container <name> read the SMTP error of a failure from this container's log (docker logs)
  --alertmanager-log <file>       read it from this file instead
  --help                          print this and exit

Exit codes: 0 delivered, 1 not delivered (the reason is printed), 2 Alertmanager unreachable.`;

const options = {
  alertmanager: { type: "string" },
  inbox: { type: "string" },
  timeout: { type: "string" },
  "alertmanager-container": { type: "string" },
  "alertmanager-log": { type: "string" },
  help: { type: "boolean", default: false },
} as const;

function httpUrl(flag: string, text: string | undefined): string {
  if (text === undefined) throw new Error(`--${flag} is required`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`--${flag}: "${text}" is not a URL; use one such as http://127.0.0.1:9093`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`--${flag}: "${text}" is not an http or https URL`);
  }
  return text;
}

function timeout(text: string | undefined): number {
  if (text === undefined) return defaultTimeoutMs;
  let ms: number;
  try {
    ms = durationMs(text);
  } catch {
    throw new Error(`--timeout: "${text}" is not a duration such as 30s or 2m`);
  }
  if (ms <= 0) throw new Error("--timeout must be longer than 0s");
  return ms;
}

async function main(argv: readonly string[]): Promise<number> {
  let check: Parameters<typeof runDeliveryCheck>[0];
  try {
    const { values } = parseArgs({ args: [...argv], options, strict: true });
    if (values.help) {
      console.log(usage);
      return 0;
    }
    const container = values["alertmanager-container"];
    const file = values["alertmanager-log"];
    if (container !== undefined && file !== undefined) {
      throw new Error("--alertmanager-container and --alertmanager-log name the same log: give one");
    }
    check = {
      alertmanagerUrl: httpUrl("alertmanager", values.alertmanager),
      inbox: values.inbox === undefined ? undefined : mailpitInbox(httpUrl("inbox", values.inbox)),
      log: container !== undefined ? containerLog(container) : file !== undefined ? logFile(file) : undefined,
      timeoutMs: timeout(values.timeout),
    };
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
    return 2;
  }

  const report = await runDeliveryCheck(check);
  const code = exitCodeOf(report);
  if (code === 0) console.log(report.message);
  else console.error(`delivery check failed: ${report.message}`);
  return code;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
