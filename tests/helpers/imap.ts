/**
 * The test Dovecot (tests/peers/servers/dovecot.sh) seen through imapflow, the client the
 * IMAP source itself uses: a fresh mailbox per test (tests run in parallel on one user),
 * APPEND, reading flags back.
 */
import { ImapFlow } from "imapflow";
import { mustPeer } from "./peers.ts";
import { type SourceHarness, sourceHarness } from "./source_harness.ts";

export function imapSettings() {
  return {
    host: mustPeer("IMAP_HOST"),
    port: Number(mustPeer("IMAP_PORT")),
    username: mustPeer("IMAP_USER"),
    password: mustPeer("IMAP_PASSWORD"),
    tls: mustPeer("IMAP_TLS") === "true",
  };
}

/** A trigger config for the test server; `extra` overrides or adds fields. */
export function imapConfig(mailbox: string, extra: Record<string, unknown> = {}) {
  const s = imapSettings();
  return {
    host: s.host,
    port: s.port,
    tls: s.tls,
    starttls: false,
    username: s.username,
    password: s.password,
    mailbox,
    ...extra,
  };
}

export async function imapClient(port?: number): Promise<ImapFlow> {
  const s = { ...imapSettings(), ...(port ? { port } : {}) };
  const c = new ImapFlow({
    host: s.host,
    port: s.port,
    secure: s.tls,
    doSTARTTLS: false,
    auth: { user: s.username, pass: s.password },
    logger: false,
  });
  c.on("error", () => {});
  await c.connect();
  return c;
}

/** APPENDs `raw` to the INBOX of the server on `port` (a private instance) over its own session. */
export async function appendTo(port: number, raw: string): Promise<void> {
  const c = await imapClient(port);
  try {
    await c.append("INBOX", raw);
  } finally {
    await c.logout().catch(() => c.close());
  }
}

export interface TestMailbox {
  name: string;
  client: ImapFlow;
  append(raw: string | Uint8Array, date?: Date, flags?: string[]): Promise<number>;
  flags(uid: number, mailbox?: string): Promise<string[] | null>;
  count(mailbox?: string): Promise<number>;
  drop(): Promise<void>;
}

/** Creates a mailbox of its own for one test; `drop()` deletes it. */
export async function freshMailbox(prefix = "t"): Promise<TestMailbox> {
  const client = await imapClient();
  const name = `${prefix}${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  await client.mailboxCreate(name);
  const created = [name];
  return {
    name,
    client,
    async append(raw, date, flags = []) {
      const r = await client.append(name, typeof raw === "string" ? raw : raw, flags, date);
      if (!r || !r.uid) throw new Error(`APPEND to ${name} answered no UID`);
      return r.uid;
    },
    async flags(uid, mailbox = name) {
      const lock = await client.getMailboxLock(mailbox);
      try {
        const m = await client.fetchOne(String(uid), { flags: true }, { uid: true });
        return m ? [...(m.flags ?? [])] : null;
      } finally {
        lock.release();
      }
    },
    async count(mailbox = name) {
      const st = await client.status(mailbox, { messages: true });
      return st ? st.messages ?? 0 : -1;
    },
    async drop() {
      for (const m of created) await client.mailboxDelete(m).catch(() => {});
      await client.logout().catch(() => client.close());
    },
  };
}

/**
 * Runs `fn` with a fresh source harness and a fresh mailbox, and drops both afterwards, also
 * when `fn` fails: the mailboxes live on the shared Dovecot.
 */
export async function withMailbox(
  fn: (h: SourceHarness, box: TestMailbox) => Promise<void>,
): Promise<void> {
  const h = await sourceHarness();
  try {
    const box = await freshMailbox();
    try {
      await fn(h, box);
    } finally {
      await box.drop();
    }
  } finally {
    await h.close();
  }
}

/** A plain message; `extra` headers are added as given. */
export function mail(
  opts: { subject: string; text?: string; from?: string; to?: string; id?: string },
): string {
  const id = opts.id ?? `<${crypto.randomUUID()}@test.example>`;
  return [
    `From: ${opts.from ?? "Alice Example <alice@example.org>"}`,
    `To: ${opts.to ?? "Bob <bob@example.org>"}`,
    `Subject: ${opts.subject}`,
    `Message-ID: ${id}`,
    `Date: Tue, 01 Dec 2026 10:00:00 +0000`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    opts.text ?? `Body of ${opts.subject}`,
    "",
  ].join("\r\n");
}

/**
 * A private Dovecot (tests/peers/servers/dovecot.sh as PEER_INSTANCE `name` on `port`), so a
 * test can drop its sessions or stop it without disturbing the other tests' mailboxes.
 */
export function dovecotInstance(name: string, port: number, extraEnv: Record<string, string> = {}) {
  const script = new URL("../peers/servers/dovecot.sh", import.meta.url).pathname;
  const conf = new URL(`../peers/.run/instances/${name}/dovecot.conf`, import.meta.url).pathname;
  const run = async (cmd: string, args: string[], env: Record<string, string> = {}) => {
    const out = await new Deno.Command(cmd, { args, env }).output();
    if (!out.success) {
      throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
    }
  };
  const env = { PEER_INSTANCE: name, IMAP_PORT: String(port), ...extraEnv };
  return {
    port,
    start: () => run("bash", [script, "start"], env),
    stop: () => run("bash", [script, "stop"], env),
    /** Dovecot drops every session of the test user (doveadm kick): a server-side close. */
    kick: () => run("doveadm", ["-c", conf, "kick", mustPeer("IMAP_USER")]),
  };
}

/**
 * Starts the private Dovecot, runs `fn` with it and a fresh source harness, and stops both
 * afterwards, also when `fn` fails: a leftover instance on its fixed port breaks later runs.
 */
export async function withDovecot(
  dovecot: ReturnType<typeof dovecotInstance>,
  fn: (h: SourceHarness) => Promise<void>,
): Promise<void> {
  try {
    await dovecot.start();
    const h = await sourceHarness();
    try {
      await fn(h);
    } finally {
      await h.close();
    }
  } finally {
    await dovecot.stop();
  }
}
