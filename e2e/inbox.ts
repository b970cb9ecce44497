/**
 * A real SMTP inbox on loopback that tests read, standing in for the stack's Mailpit. It can be stopped (new
 * connections are refused, as when a mail server is down) and started again on the same port, which is what
 * the "inbox outage" scenario needs.
 */
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { type HostPort, hostPort } from "../configs/runtime/endpoints";
import { freePort, loopback } from "../test-support/ports";
import { seconds, waitFor } from "../test-support/wait";

export interface ReceivedEmail {
  /** `performance.now()` when the message was accepted, comparable with a scenario's own marks. */
  readonly receivedAt: number;
  readonly subject: string;
  /** The plain-text body; mailparser converts the HTML body when the message has no text part. */
  readonly text: string;
  readonly html: string | undefined;
  /** Envelope recipients, as the SMTP client gave them in RCPT TO. */
  readonly recipients: readonly string[];
  readonly from: string;
}

export interface EmailWait {
  /** Only messages accepted after this `performance.now()` mark count; the returned time is measured from it. */
  readonly since: number;
  readonly timeoutMs: number;
  /** Text for the timeout error, such as the tails of the processes' logs; defaults to `summary()`. */
  readonly diagnostics?: () => string;
}

export interface ArrivedEmail {
  readonly email: ReceivedEmail;
  /** From `since` to the moment the inbox accepted the message. */
  readonly elapsedMs: number;
}

/** How long a stop waits for open SMTP sessions before cutting them; smtp-server's default is 30 s. */
const closeTimeoutMs = 1000;

export class Inbox {
  readonly messages: ReceivedEmail[] = [];
  private server: SMTPServer | undefined;

  private constructor(
    readonly port: number,
    private readonly log: (line: string) => void,
  ) {}

  /** An inbox listening on a free loopback port. */
  static async open(log: (line: string) => void = console.log): Promise<Inbox> {
    const inbox = new Inbox(await freePort(), log);
    await inbox.start();
    return inbox;
  }

  get address(): HostPort {
    return hostPort(loopback, this.port);
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Starts accepting mail again on the same port. */
  async start(): Promise<void> {
    if (this.server) return;
    const server = new SMTPServer({
      authOptional: true,
      // Like Mailpit: plain SMTP without authentication; Alertmanager then neither negotiates TLS nor logs in.
      disabledCommands: ["AUTH", "STARTTLS"],
      logger: false,
      closeTimeout: closeTimeoutMs,
      onData: (stream, session, callback) => {
        const receivedAt = performance.now();
        simpleParser(stream)
          .then((mail) => {
            this.messages.push(toReceivedEmail(receivedAt, mail, session.envelope));
            callback();
          })
          .catch((error: Error) => callback(error));
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.server.once("error", reject);
      server.listen(this.port, loopback, () => {
        server.server.off("error", reject);
        resolve();
      });
    });
    this.server = server;
  }

  /** Stops listening: from now on connections are refused until `start()`. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => server.close(resolve));
  }

  /** Messages accepted after `since` that satisfy `predicate`. */
  received(predicate: (email: ReceivedEmail) => boolean, since = 0): ReceivedEmail[] {
    return this.messages.filter((email) => email.receivedAt >= since && predicate(email));
  }

  /** Waits for the first message after `wait.since` that satisfies `predicate`, and prints how long it took. */
  async waitForEmail(
    description: string,
    predicate: (email: ReceivedEmail) => boolean,
    wait: EmailWait,
  ): Promise<ArrivedEmail> {
    const { value: email } = await waitFor(
      `an e-mail: ${description}`,
      () => this.received(predicate, wait.since)[0],
      { timeoutMs: wait.timeoutMs, intervalMs: 100, diagnostics: wait.diagnostics ?? (() => this.summary()) },
    );
    const elapsedMs = email.receivedAt - wait.since;
    this.log(`      e-mail "${email.subject}" after ${seconds(elapsedMs)}`);
    return { email, elapsedMs };
  }

  /** The inbox's state and every subject it received, for failure messages. */
  summary(): string {
    const subjects = this.messages.map((email) => `   - ${email.subject}`);
    const state = this.listening ? "listening" : "stopped";
    return [`── inbox ${this.address} (${state}), ${subjects.length} messages`, ...subjects].join("\n");
  }
}

function toReceivedEmail(
  receivedAt: number,
  mail: ParsedMail,
  envelope: { mailFrom: false | { address: string }; rcptTo: readonly { address: string }[] },
): ReceivedEmail {
  return {
    receivedAt,
    subject: mail.subject ?? "",
    text: mail.text ?? "",
    html: typeof mail.html === "string" ? mail.html : undefined,
    recipients: envelope.rcptTo.map((recipient) => recipient.address),
    from: envelope.mailFrom === false ? "" : envelope.mailFrom.address,
  };
}
