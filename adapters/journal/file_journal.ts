/**
 * The Journal port (core/ports.ts) on local files: segments of length-prefixed, CRC-checked
 * records in one folder, each written with one write and one fdatasync before `append`
 * resolves. A segment is deleted once every record in it was released (imported into the
 * store); a new one starts past `segmentBytes`, or when the current one is all released and
 * past a mebibyte, so the folder stays small while the store keeps up.
 *
 * Appends go to `lanes` segments at once (one file each): an append waits for one fdatasync
 * whatever the others are doing, and the device flushes several files' writes together, which
 * measured several times the syncs per second of one file here.
 *
 * Several processes may share the folder (nodes on one SQLite file): each holds an exclusive
 * flock on the segments it writes, so a starting process recovers only segments whose writer
 * is gone (the kernel drops a dead process's locks, SIGKILL included). A segment is created
 * under a temporary name, locked, then renamed into place, so nobody can take it in between.
 *
 *   record: u32 length, u32 CRC-32 of the payload, payload
 * A torn tail (a crash during a write that was never acknowledged) ends the segment's records.
 */
import { crc32 } from "node:zlib";
import type { Journal, JournalRef } from "../../core/ports.ts";

export interface FileJournalOptions {
  dir: string;
  /** A segment is closed for new records past this size (default 16 MiB). */
  segmentBytes?: number;
  /** Segments written at once, each by one append at a time (default 4). */
  lanes?: number;
}

interface Segment {
  name: string;
  path: string;
  file: Deno.FsFile;
  size: number;
  /** Records (or appends under way) not yet released. */
  live: number;
  sealed: boolean;
}

const HEADER = 8;
const MAX_RECORD = 256 * 1024 * 1024;
const SUFFIX = ".journal";

export interface FileJournal extends Journal {
  /** Segment files this process holds open (its own and recovered ones not yet released). */
  segments(): string[];
}

export async function openFileJournal(opts: FileJournalOptions): Promise<FileJournal> {
  const dir = opts.dir;
  const segmentBytes = opts.segmentBytes ?? 16 * 1024 * 1024;
  await Deno.mkdir(dir, { recursive: true });
  const segments = new Map<string, Segment>();
  interface Lane {
    active: Segment | null;
    busy: boolean;
  }
  const lanes: Lane[] = Array.from(
    { length: opts.lanes ?? 4 },
    () => ({ active: null, busy: false }),
  );
  /** Appends waiting for a free lane, in order. */
  const waiting: (() => void)[] = [];
  let pending = 0;
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;

  async function syncDir() {
    const d = await Deno.open(dir, { read: true });
    try {
      await d.sync();
    } finally {
      d.close();
    }
  }

  async function create(): Promise<Segment> {
    const stem = `${Date.now().toString().padStart(14, "0")}-${crypto.randomUUID().slice(0, 8)}`;
    const tmp = `${dir}/${stem}.tmp`;
    const path = `${dir}/${stem}${SUFFIX}`;
    const file = await Deno.open(tmp, { read: true, write: true, createNew: true });
    if (!(await file.tryLock(true))) {
      file.close();
      throw new Error(`journal segment ${tmp} is locked by another process`);
    }
    await Deno.rename(tmp, path);
    await syncDir();
    const seg = { name: `${stem}${SUFFIX}`, path, file, size: 0, live: 0, sealed: false };
    segments.set(seg.name, seg);
    return seg;
  }

  async function drop(seg: Segment) {
    segments.delete(seg.name);
    for (const l of lanes) if (l.active === seg) l.active = null;
    // Removed before closing, so the lock is held until the name is gone.
    await Deno.remove(seg.path).catch(() => {});
    seg.file.close();
  }

  async function writeAll(file: Deno.FsFile, buf: Uint8Array) {
    for (let off = 0; off < buf.length;) off += await file.write(buf.subarray(off));
  }

  async function appendOn(lane: Lane, record: Uint8Array): Promise<JournalRef> {
    if (!lane.active || lane.active.size >= segmentBytes) {
      if (lane.active) lane.active.sealed = true;
      lane.active = await create();
    }
    const seg = lane.active;
    const buf = new Uint8Array(HEADER + record.length);
    const view = new DataView(buf.buffer);
    view.setUint32(0, record.length);
    view.setUint32(4, crc32(record));
    buf.set(record, HEADER);
    seg.live++;
    try {
      await writeAll(seg.file, buf);
      await seg.file.syncData();
    } catch (e) {
      // What was written of it may be torn: nothing more goes into this segment.
      seg.live--;
      seg.sealed = true;
      if (lane.active === seg) lane.active = null;
      if (seg.live === 0) await drop(seg);
      throw e;
    }
    seg.size += buf.length;
    pending += record.length;
    return { segment: seg.name, bytes: record.length };
  }

  return {
    async append(record) {
      if (closed) throw new Error("the journal is closed");
      if (record.length === 0 || record.length > MAX_RECORD) {
        throw new RangeError(`journal record of ${record.length} bytes`);
      }
      // One append per lane at a time, so records follow each other in each file.
      let lane = lanes.find((l) => !l.busy);
      while (!lane) {
        await new Promise<void>((r) => waiting.push(r));
        lane = lanes.find((l) => !l.busy);
      }
      lane.busy = true;
      const p = appendOn(lane, record);
      inFlight.add(p);
      try {
        return await p;
      } finally {
        inFlight.delete(p);
        lane.busy = false;
        waiting.shift()?.();
      }
    },
    release(ref) {
      const seg = segments.get(ref.segment);
      if (!seg) return;
      seg.live--;
      pending -= ref.bytes;
      if (seg.live > 0) return;
      const lane = lanes.find((l) => l.active === seg);
      if (lane) {
        if (seg.size < 1024 * 1024) return;
        seg.sealed = true;
        lane.active = null;
      }
      if (seg.sealed) void drop(seg);
    },
    async *recovered() {
      const names: string[] = [];
      for await (const e of Deno.readDir(dir)) {
        if (e.isFile && (e.name.endsWith(SUFFIX) || e.name.endsWith(".tmp"))) names.push(e.name);
      }
      names.sort();
      for (const name of names) {
        if (segments.has(name)) continue;
        const path = `${dir}/${name}`;
        if (name.endsWith(".tmp")) {
          // Created and never renamed: nothing was ever written to it. A young one may be a
          // live neighbour's between its create and its lock: not even opened.
          const st = await Deno.stat(path).catch(() => null);
          if (!st || Date.now() - (st.mtime?.getTime() ?? 0) < 60_000) continue;
        }
        let file: Deno.FsFile;
        try {
          file = await Deno.open(path, { read: true, write: true });
        } catch {
          continue; // gone meanwhile: another process recovered it
        }
        if (!(await file.tryLock(true))) {
          file.close(); // its writer is alive
          continue;
        }
        if (name.endsWith(".tmp")) {
          await Deno.remove(path).catch(() => {});
          file.close();
          continue;
        }
        const data = await Deno.readFile(path);
        const records = parseRecords(data);
        const seg: Segment = {
          name,
          path,
          file,
          size: data.length,
          live: records.length,
          sealed: true,
        };
        segments.set(name, seg);
        if (records.length === 0) {
          await drop(seg);
          continue;
        }
        for (const record of records) {
          pending += record.length;
          yield { ref: { segment: name, bytes: record.length }, record };
        }
      }
    },
    pendingBytes: () => pending,
    segments: () => [...segments.keys()],
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...inFlight]);
      for (const seg of segments.values()) {
        if (seg.live === 0) await Deno.remove(seg.path).catch(() => {});
        seg.file.close();
      }
      segments.clear();
      for (const l of lanes) l.active = null;
    },
  };
}

/** The whole records of a segment, up to the first torn or corrupt one. */
export function parseRecords(data: Uint8Array): Uint8Array[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: Uint8Array[] = [];
  for (let pos = 0; pos + HEADER <= data.length;) {
    const len = view.getUint32(pos);
    if (len === 0 || len > MAX_RECORD || pos + HEADER + len > data.length) break;
    const record = data.subarray(pos + HEADER, pos + HEADER + len);
    if (crc32(record) !== view.getUint32(pos + 4)) break;
    out.push(record);
    pos += HEADER + len;
  }
  return out;
}
