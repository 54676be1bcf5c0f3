// `phantom-relay migrate --from sqlite:PATH --to postgres://…` (issue 13): copy a SQLite relay's
// state into an empty PostgreSQL database, keeping every row as it is — a message's seq and ts
// (PROTOCOL §7.6.1: clients' cursors stay valid), the order of one-time prekeys (PROTOCOL-v3
// §V3.3 hands out the oldest first), the replay cache (PROTOCOL §6) — then set the database's
// clock past everything copied and check every table's count. One PostgreSQL transaction: a
// failure leaves the target empty. The SQLite file is read in one read transaction (a
// consistent snapshot) and in batches, so memory stays bounded whatever its size.
import { Database } from "bun:sqlite";
import type { SQL } from "bun";
import { ConfigError } from "./errors.ts";
import { PgStore, redactUrl } from "./pg-store.ts";
import { PG_TABLES } from "./pg-schema.ts";
import { SCHEMA_VERSION } from "./sqlite-store.ts";

const BATCH = 500;

export interface MigrateArgs {
  from: string;
  to: string;
  prepare: boolean;
}

/** migrate's own flags: --from sqlite:PATH, --to postgres://…, --pg-prepare on|off. */
export function parseMigrateArgs(argv: readonly string[]): MigrateArgs {
  const got = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!["--from", "--to", "--pg-prepare"].includes(name)) {
      throw new ConfigError(`migrate: unknown option '${name.slice(0, 40)}'`);
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === "") throw new ConfigError(`migrate: option '${name}' needs a value`);
    got.set(name, value);
  }
  const from = got.get("--from");
  const to = got.get("--to");
  if (!from?.startsWith("sqlite:") || from.length === "sqlite:".length) {
    throw new ConfigError("migrate: --from must be sqlite:PATH (the relay's relay.db)");
  }
  if (!to || !/^postgres(ql)?:\/\//.test(to)) throw new ConfigError("migrate: --to must be a postgres:// URL");
  const prepare = got.get("--pg-prepare") ?? "on";
  if (prepare !== "on" && prepare !== "off") throw new ConfigError("migrate: --pg-prepare must be on or off");
  return { from: from.slice("sqlite:".length), to, prepare: prepare === "on" };
}

/** Each table: the SQLite query (in an order that keeps meaning) and the PostgreSQL columns. */
const COPIES: readonly { table: (typeof PG_TABLES)[number]; select: string; columns: string[] }[] = [
  {
    table: "users",
    select: "SELECT uid, enc_pub, sign_pub, registered_day FROM users",
    columns: ["uid", "enc_pub", "sign_pub", "registered_day"],
  },
  {
    table: "rooms",
    select: "SELECT room_id, member_a, member_b FROM rooms",
    columns: ["room_id", "member_a", "member_b"],
  },
  {
    table: "inbox",
    select: "SELECT to_uid, from_uid, pub_key, room_id, ts FROM inbox",
    columns: ["to_uid", "from_uid", "pub_key", "room_id", "ts"],
  },
  {
    table: "messages",
    select: "SELECT seq, room_id, ts, ciphertext FROM messages ORDER BY seq",
    columns: ["seq", "room_id", "ts", "ciphertext"],
  },
  {
    table: "files",
    select: "SELECT blob_id, room_id, size, created, expires FROM files",
    columns: ["blob_id", "room_id", "size", "created", "expires"],
  },
  { table: "burns", select: "SELECT uid, ts FROM burns ORDER BY rowid", columns: ["uid", "ts"] },
  // The SQLite replay cache may hold a key twice (it is appended); one row is the same cache.
  {
    table: "nonces",
    select: "SELECT key, max(expires) AS expires FROM nonces GROUP BY key",
    columns: ["key", "expires"],
  },
  {
    table: "prekeys",
    select: "SELECT uid, kind, id, pub, sig FROM prekeys ORDER BY rowid", // upload order: n follows it
    columns: ["uid", "kind", "id", "pub", "sig"],
  },
  { table: "prekey_ids", select: "SELECT uid, id FROM prekey_ids", columns: ["uid", "id"] },
  {
    table: "prekey_grants",
    select: "SELECT signer, target, kind, ts FROM prekey_grants",
    columns: ["signer", "target", "kind", "ts"],
  },
  {
    table: "bundle_requests",
    select: "SELECT signer, ts FROM bundle_requests ORDER BY rowid",
    columns: ["signer", "ts"],
  },
];

type Row = Record<string, unknown>;

/** Copy every table; `say` gets one line per table. Throws Error with a one-line message. */
export async function migrate(args: MigrateArgs, say: (line: string) => void): Promise<void> {
  const db = openSource(args.from);
  let store: PgStore | null = null;
  try {
    store = await PgStore.open(args.to, { prepare: args.prepare, clock: "database", max: 2 });
    await store.raw(async (sql) => {
      await sql.begin(async (tx) => {
        await tx`SELECT 1 AS x FROM relay_clock WHERE id = 1 FOR UPDATE`; // no relay writes meanwhile
        for (const table of PG_TABLES) {
          const [r] = (await tx.unsafe(`SELECT EXISTS (SELECT 1 FROM ${table}) AS used`)) as Row[];
          if (r!.used)
            throw new Error(`the target database is not empty (table ${table} has rows); use a new database`);
        }
        db.run("BEGIN"); // one snapshot of the source
        try {
          for (const copy of COPIES) say(`${copy.table}: ${await copyTable(db, tx, copy)} rows`);
          await finishClock(db, tx);
          await tx`INSERT INTO room_usage (room_id, bytes)
            SELECT room_id, sum(n) FROM (
              SELECT room_id, octet_length(ciphertext)::bigint AS n FROM messages
              UNION ALL SELECT room_id, size AS n FROM files
            ) AS u GROUP BY room_id`;
        } finally {
          db.run("ROLLBACK");
        }
      });
    });
  } finally {
    db.close();
    await store?.close();
  }
  say(`migrated to ${redactUrl(args.to)}`);
}

function openSource(path: string): Database {
  let db: Database;
  try {
    db = new Database(path, { readonly: true });
  } catch {
    throw new Error(`cannot open '${path}' (is it the relay's relay.db?)`);
  }
  const { user_version: version } = db.query("PRAGMA user_version").get() as { user_version: number };
  if (version !== SCHEMA_VERSION) {
    db.close();
    throw new Error(
      `'${path}' has schema version ${version}, this relay ${SCHEMA_VERSION}: start this relay once on it (it upgrades the file), stop it, then migrate`,
    );
  }
  return db;
}

async function copyTable(db: Database, tx: SQL, copy: (typeof COPIES)[number]): Promise<number> {
  let batch: Row[] = [];
  let n = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await tx`INSERT INTO ${tx(copy.table)} ${tx(batch, ...copy.columns)}`;
    n += batch.length;
    batch = [];
  };
  for (const row of db.query(copy.select).iterate() as Iterable<Row>) {
    batch.push(row);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  const [{ count }] = (await tx.unsafe(`SELECT count(*)::bigint AS count FROM ${copy.table}`)) as [{ count: string }];
  if (Number(count) !== n) throw new Error(`table ${copy.table}: ${n} rows copied but ${count} stored`);
  return n;
}

/**
 * PROTOCOL §7.6.1: seq never reused — past the greatest ever handed out (SQLite's AUTOINCREMENT
 * counter covers burned and purged rows too) — and ts never below a stored row's.
 */
async function finishClock(db: Database, tx: SQL): Promise<void> {
  const seqRow = db.query("SELECT seq FROM sqlite_sequence WHERE name = 'messages'").get() as { seq: number } | null;
  const maxRow = db.query("SELECT coalesce(max(seq), 0) AS seq, coalesce(max(ts), 0) AS ts FROM messages").get() as {
    seq: number;
    ts: number;
  };
  const seq = Math.max(seqRow?.seq ?? 0, maxRow.seq);
  await tx`UPDATE relay_clock SET seq = GREATEST(seq, ${seq}), ts = GREATEST(ts, ${maxRow.ts}) WHERE id = 1`;
}
