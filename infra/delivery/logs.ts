/**
 * Alertmanager's log, where it names why an e-mail failed (the SMTP server's answer, a refused connection, a
 * missing STARTTLS). Its metrics only count failures; the check reads the log to say what went wrong.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";

export interface AlertmanagerLog {
  /** Where the log is read from, for messages: a file, or `docker logs <container>`. */
  readonly where: string;
  /** The log's text since `since` (a file gives all of it: the check filters by its own id). */
  read(since: Date): Promise<string>;
}

/** Bounds `docker logs`, which talks to the Docker daemon. */
const dockerLogsTimeoutMs = 10_000;

export function logFile(path: string): AlertmanagerLog {
  return { where: path, read: () => readFile(path, "utf8") };
}

/** The log of the stack's Alertmanager container, through the Docker CLI. */
export function containerLog(container: string): AlertmanagerLog {
  return {
    where: `docker logs ${container}`,
    read: (since) =>
      new Promise((resolve, reject) => {
        execFile(
          "docker",
          ["logs", "--since", since.toISOString(), container],
          { timeout: dockerLogsTimeoutMs, maxBuffer: 16 * 1024 * 1024 },
          (error, stdout, stderr) => (error ? reject(error) : resolve(`${stdout}${stderr}`)),
        );
      }),
  };
}

/**
 * The errors Alertmanager logged for one aggregation group, oldest first: the `err` of its "Notify attempt
 * failed" and "Notify for alerts failed" lines (logfmt), which name the group by its key. The delivery check's
 * group key holds its unique id, so `groupText` picks out its own lines.
 */
export function notifyErrors(log: string, groupText: string): string[] {
  return log
    .split("\n")
    .filter((line) => line.includes(groupText) && /msg="Notify (attempt|for alerts) failed/.test(line))
    .flatMap((line) => {
      const match = /\berr=(?:"((?:[^"\\]|\\.)*)"|(\S+))/.exec(line);
      const quoted = match?.[1];
      const text = quoted === undefined ? match?.[2] : quoted.replace(/\\(.)/g, "$1");
      return text === undefined ? [] : [text];
    });
}
