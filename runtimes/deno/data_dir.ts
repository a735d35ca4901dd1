/**
 * The data folder holds the keys, the embedded database and tenants' files: it is made (or
 * made again) 0700, and the database file with its WAL and SHM files 0600, before SQLite opens
 * it. SQLite creates -wal and -shm with the database file's own mode, so creating the file
 * 0600 first is what keeps them private too; existing ones are tightened on every start.
 */
export async function secureDataDir(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await chmodIf(dir, 0o700);
}

export async function secureDatabaseFile(path: string): Promise<void> {
  if (path === ":memory:" || path.startsWith("file:")) return;
  const folder = path.includes("/") ? path.replace(/\/[^/]*$/, "") : "";
  if (folder) await Deno.mkdir(folder, { recursive: true, mode: 0o700 });
  // Create it empty, 0600, if it is not there (SQLite takes an empty file as a new database).
  try {
    (await Deno.open(path, { write: true, createNew: true, mode: 0o600 })).close();
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
  for (const p of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) await chmodIf(p, 0o600);
}

async function chmodIf(path: string, mode: number): Promise<void> {
  try {
    await Deno.chmod(path, mode);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}
