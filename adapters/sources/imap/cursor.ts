/**
 * The durable position of an IMAP trigger: the mailbox, its UIDVALIDITY, the highest UID
 * whose event is committed, and `after`, the arrival time (INTERNALDATE, ms) of the newest
 * message emitted, or when the trigger first looked (nothing emitted yet). `after` is what a
 * resync uses when UIDVALIDITY changes and the UIDs no longer mean anything.
 */
export interface ImapCursor {
  v: 1;
  mailbox: string;
  uidvalidity: string;
  uid: number;
  after: number;
}

export function encodeImapCursor(c: ImapCursor): string {
  return JSON.stringify(c);
}

/** The cursor in `text`, or null when there is none or it is not one of ours. */
export function decodeImapCursor(text: string | null): ImapCursor | null {
  if (!text) return null;
  try {
    const c = JSON.parse(text);
    if (
      c?.v === 1 && typeof c.mailbox === "string" && typeof c.uidvalidity === "string" &&
      Number.isSafeInteger(c.uid) && c.uid >= 0 && Number.isFinite(c.after)
    ) return c as ImapCursor;
  } catch {
    // not JSON: treated as no cursor
  }
  return null;
}
