/**
 * Open file descriptors and their limit, for /metrics. Deno refuses `/proc/self/*` to anything
 * short of `--allow-all` (prom-client's collectors then report 0), but the node runs with
 * `--allow-ffi` for its SQLite drivers, so it lists `/proc/self/fd` through libc instead
 * (`getdents64`), and reads the limit with `getrlimit`. Linux only: elsewhere both are null and
 * the metrics are left out rather than reported as 0.
 */

const O_RDONLY = 0, O_DIRECTORY = 0o200000, O_CLOEXEC = 0o2000000;
const RLIMIT_NOFILE = 7;

const SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  getdents64: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
} as const;

let libc: Deno.DynamicLibrary<typeof SYMBOLS> | null | undefined;

function lib(): Deno.DynamicLibrary<typeof SYMBOLS> | null {
  if (libc !== undefined) return libc;
  libc = null;
  if (Deno.build.os !== "linux") return libc;
  try {
    libc = Deno.dlopen("libc.so.6", SYMBOLS);
  } catch { /* no FFI permission, or no glibc: the metrics are left out */ }
  return libc;
}

/** The number of open descriptors of this process, or null where it cannot be known. */
export function openFds(): number | null {
  try {
    // Allowed when the node runs with --allow-all.
    return [...Deno.readDirSync("/proc/self/fd")].length - 1; // the listing's own descriptor
  } catch { /* refused without --allow-all: ask libc */ }
  const c = lib();
  if (!c) return null;
  const path = new TextEncoder().encode("/proc/self/fd\0");
  const fd = c.symbols.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return null;
  const buf = new Uint8Array(64 * 1024);
  const view = new DataView(buf.buffer);
  let count = 0;
  try {
    for (;;) {
      const got = Number(c.symbols.getdents64(fd, buf, BigInt(buf.length)));
      if (got < 0) return null;
      if (got === 0) break;
      // struct linux_dirent64 { u64 d_ino; i64 d_off; u16 d_reclen; u8 d_type; char d_name[] }
      for (let off = 0; off < got;) {
        const reclen = view.getUint16(off + 16, true);
        const n0 = buf[off + 19], n1 = buf[off + 20], n2 = buf[off + 21];
        const dots = n0 === 46 && (n1 === 0 || (n1 === 46 && n2 === 0));
        if (!dots) count++;
        off += reclen;
      }
    }
  } finally {
    c.symbols.close(fd);
  }
  return count - 1; // the descriptor this count itself opened
}

/** The soft limit on open descriptors, or null. */
export function maxFds(): number | null {
  const c = lib();
  if (!c) return null;
  const rl = new BigUint64Array(2);
  if (c.symbols.getrlimit(RLIMIT_NOFILE, new Uint8Array(rl.buffer)) !== 0) return null;
  return Number(rl[0]);
}
