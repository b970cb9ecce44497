/**
 * Where the check looks for its e-mail when the stack has its own inbox. The check needs only "which messages
 * carry this text, and to whom did they go", so any inbox can stand behind this interface; Mailpit's HTTP API
 * is the one the stack runs.
 */
import { fetchText } from "./http";

export interface InboxMessage {
  readonly subject: string;
  /** Every address the message was sent to: To, Cc and Bcc. */
  readonly recipients: readonly string[];
}

export interface InboxClient {
  /** The inbox's web address, for messages. */
  readonly url: string;
  /** Messages whose subject or body contains `text`, newest first; empty while none does. */
  messagesWith(text: string): Promise<InboxMessage[]>;
}

interface MailpitAddress {
  readonly Address?: string;
}

/** The fields of Mailpit's `MessagesSummary` (GET /api/v1/search) that the check reads. */
interface MailpitSearchResult {
  readonly messages?: readonly {
    readonly Subject?: string;
    readonly To?: readonly MailpitAddress[] | null;
    readonly Cc?: readonly MailpitAddress[] | null;
    readonly Bcc?: readonly MailpitAddress[] | null;
  }[];
}

/**
 * Mailpit's web UI and API at `url` (the stack's `mailpitUrl`). Its search matches a plain term against the
 * subject, the addresses and the text of the body, case-insensitively.
 */
export function mailpitInbox(baseUrl: string): InboxClient {
  const url = baseUrl.replace(/\/+$/, "");
  return {
    url,
    async messagesWith(text) {
      const query = new URLSearchParams({ query: text, limit: "10" });
      const result = JSON.parse(await fetchText(`${url}/api/v1/search?${query}`)) as MailpitSearchResult;
      if (!Array.isArray(result.messages)) {
        throw new Error(`GET ${url}/api/v1/search answered without a "messages" list: is ${url} Mailpit?`);
      }
      return result.messages.map((message) => ({
        subject: message.Subject ?? "",
        recipients: [...(message.To ?? []), ...(message.Cc ?? []), ...(message.Bcc ?? [])].flatMap(
          (address) => (address.Address ? [address.Address] : []),
        ),
      }));
    },
  };
}
