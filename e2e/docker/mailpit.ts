/**
 * Reading the stack's Mailpit inbox through its HTTP API, as the e-mail a person receives. The shapes are
 * Mailpit v1.33's (server/apiv1/messages.go: `messages` of `MessageSummary`; GET /api/v1/message/{ID}).
 */
import { boundedFetch } from "../../test-support/http";
import { parseSubject } from "../notifications";

export interface MailpitMessage {
  readonly id: string;
  readonly subject: string;
  readonly created: Date;
  readonly to: readonly string[];
}

interface MessagesSummary {
  readonly messages: readonly {
    readonly ID: string;
    readonly Subject: string;
    readonly Created: string;
    readonly To: readonly { readonly Address: string }[] | null;
  }[];
}

export class MailpitClient {
  constructor(readonly baseUrl: string) {}

  /** Every message, oldest first (the inbox holds a few dozen at most in these tests). */
  async messages(): Promise<MailpitMessage[]> {
    const response = await boundedFetch(`${this.baseUrl}/api/v1/messages?limit=500`);
    if (!response.ok) throw new Error(`Mailpit GET /api/v1/messages: HTTP ${response.status}`);
    const body = (await response.json()) as MessagesSummary;
    return body.messages
      .map((message) => ({
        id: message.ID,
        subject: message.Subject,
        created: new Date(message.Created),
        to: (message.To ?? []).map(({ Address }) => Address),
      }))
      .sort((a, b) => a.created.getTime() - b.created.getTime());
  }

  /** The plain-text body of one message. */
  async text(id: string): Promise<string> {
    const response = await boundedFetch(`${this.baseUrl}/api/v1/message/${encodeURIComponent(id)}`);
    if (!response.ok) throw new Error(`Mailpit GET /api/v1/message/${id}: HTTP ${response.status}`);
    return ((await response.json()) as { Text: string }).Text;
  }

  /** The notifications of one alert with one status, oldest first. */
  async notifications(alertname: string, status: "firing" | "resolved"): Promise<MailpitMessage[]> {
    return (await this.messages()).filter((message) => {
      const subject = parseSubject(message.subject);
      return subject?.alertname === alertname && subject.status === status;
    });
  }
}
