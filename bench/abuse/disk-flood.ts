// Disk flood, with and without a key, in two halves:
// (a) one registered client sends maximum-size /send messages and uploads maximum-size
//     files as fast as it can;
// (b) uploads that carry only a victim's UID and a garbage signature.
// Notes how fast data reaches the relay's data folder (du of <cwd>/phantom-relay-data) and
// how many bytes the relay wrote (/proc/<pid>/io wchar), per half, and how each request ended.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import * as c from "../../lib/crypto.ts";
import { b64encode, b64uencode } from "../../lib/encoding.ts";
import { H_NONCE, H_SIG, H_TS, H_UID } from "../../lib/wire.ts";
import { makePairs, sign, type BenchUser } from "../relay-load.ts";
import type { Attack, AttackContext } from "./attack.ts";

const MAX_CIPHERTEXT = 65_536; // PROTOCOL §7.6
const MAX_FILE = 52_428_800; // the relay's default MAX_FILE_SIZE_BYTES (§9)
const SENDERS = 4;
const UPLOADERS = 2;
const GARBAGE_UPLOADERS = 8;
const SAMPLE_MS = 200;
const MiB = 1024 * 1024;

/** Bytes in a folder, recursively (files that vanish while we look count 0). */
function du(dir: string): number {
  let total = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    try {
      const st = statSync(join(dir, name));
      total += st.isDirectory() ? du(join(dir, name)) : st.size;
    } catch {
      // removed meanwhile
    }
  }
  return total;
}

function wchar(pid: number): number {
  const m = /^wchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"));
  return m ? Number(m[1]) : 0;
}

function multipart(roomId: string, uid: string, file: Uint8Array): { body: Uint8Array; type: string } {
  const boundary = "b" + b64uencode(c.randomBytes(12));
  const head =
    `--${boundary}\r\nContent-Disposition: form-data; name="room_id"\r\n\r\n${roomId}\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="sender_id"\r\n\r\n${uid}\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="blob.bin"\r\n` +
    "Content-Type: application/octet-stream\r\n\r\n";
  const body = Buffer.concat([Buffer.from(head), file, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return { body: new Uint8Array(body), type: `multipart/form-data; boundary=${boundary}` };
}

type Tally = Map<string, number> & { onRefusal?: () => void };
const count = (t: Tally, k: string) => {
  if (k !== "200") t.onRefusal?.();
  return t.set(k, (t.get(k) ?? 0) + 1);
};
const show = (t: Tally) => [...t].map(([k, n]) => `${k}×${n}`).join(" ") || "none";

async function request(url: string, init: RequestInit, t: Tally, signal: AbortSignal): Promise<void> {
  try {
    const r = await fetch(url, { ...init, signal });
    await r.arrayBuffer();
    count(t, String(r.status));
  } catch {
    if (!signal.aborted) count(t, "reset");
  }
}

interface Half {
  bytesBefore: number;
  wcharBefore: number;
  peak: number;
  t0: number;
  /** Seconds into the half and data-folder bytes when the first refusal came back. */
  refusedAt?: { s: number; bytes: number };
}

async function half(
  ctx: AttackContext,
  seconds: number,
  t: Tally,
  loops: (() => Promise<void>)[],
): Promise<Half & { end: number }> {
  const dataDir = join(`/proc/${ctx.pid}/cwd`, "phantom-relay-data");
  const h: Half = { bytesBefore: du(dataDir), wcharBefore: wchar(ctx.pid), peak: 0, t0: performance.now() };
  t.onRefusal = () => (h.refusedAt ??= { s: (performance.now() - h.t0) / 1000, bytes: du(dataDir) });
  const stop = AbortSignal.any([ctx.signal, AbortSignal.timeout(seconds * 1000)]);
  const sampler = setInterval(() => (h.peak = Math.max(h.peak, du(dataDir))), SAMPLE_MS);
  await Promise.all(
    loops.map(async (loop) => {
      while (!stop.aborted) await loop();
    }),
  );
  clearInterval(sampler);
  await Bun.sleep(500); // let the relay finish and clean up what it refused
  h.peak = Math.max(h.peak, du(dataDir));
  return { ...h, end: du(dataDir) };
}

function report(ctx: AttackContext, label: string, h: Half & { end: number }, pid: number, t: Tally): void {
  const s = (performance.now() - h.t0) / 1000;
  const grew = (h.end - h.bytesBefore) / MiB;
  const written = (wchar(pid) - h.wcharBefore) / MiB;
  const peak = (h.peak - h.bytesBefore) / MiB;
  ctx.note(
    `${label}: data folder +${grew.toFixed(0)} MiB kept (${(grew / s).toFixed(1)} MiB/s), peak +` +
      `${peak.toFixed(0)} MiB; relay wrote ${(written / s).toFixed(1)} MiB/s; answers ${show(t)}`,
  );
  if (h.refusedAt) {
    const r = h.refusedAt;
    const after = (h.end - r.bytes) / MiB / Math.max(0.001, s - r.s);
    ctx.note(
      `    first refusal after ${r.s.toFixed(1)} s at +${((r.bytes - h.bytesBefore) / MiB).toFixed(0)} MiB; ` +
        `from then on ${after.toFixed(1)} MiB/s kept`,
    );
  }
}

export const diskFlood: Attack = {
  name: "disk-flood",
  what: "(a) 1 client: max-size /send ×4 and 50 MiB uploads ×2 in a loop; (b) 50 MiB uploads ×8, victim UID + garbage sig",
  async run(ctx) {
    // (b)'s victim is another user than (a)'s client, so the quotas (a) used up play no part.
    const [pair, victimPair] = await makePairs(ctx.url, 2, true);
    const [a] = pair!.members as [BenchUser, BenchUser];
    const [victim] = victimPair!.members as [BenchUser, BenchUser];
    const sendBody = new TextEncoder().encode(
      JSON.stringify({ room_id: pair!.roomId, ciphertext: b64encode(c.randomBytes(MAX_CIPHERTEXT)) }),
    );
    const file = c.randomBytes(MAX_FILE);
    const stop = ctx.signal;
    const each = ctx.seconds / 2;

    // (a) a registered member, signing everything properly
    const ta: Tally = new Map();
    const sendLoop = () =>
      request(
        `${ctx.url}/send`,
        {
          method: "POST",
          headers: { "content-type": "application/json", ...sign(a, "POST", "/send", sendBody) },
          body: sendBody,
        },
        ta,
        stop,
      );
    const uploadLoop = async () => {
      const { body, type } = multipart(pair!.roomId, a.uid, file);
      const headers = { "content-type": type, ...sign(a, "POST", "/file/upload", body) };
      await request(`${ctx.url}/file/upload`, { method: "POST", headers, body }, ta, stop);
    };
    const ha = await half(ctx, each, ta, [
      ...Array.from({ length: SENDERS }, () => sendLoop),
      ...Array.from({ length: UPLOADERS }, () => uploadLoop),
    ]);
    report(ctx, "(a) signed", ha, ctx.pid, ta);
    if (stop.aborted) return;

    // (b) only the victim's UID: fresh ts and nonce, a signature of random bytes
    const tb: Tally = new Map();
    const { body, type } = multipart(victimPair!.roomId, victim.uid, file);
    const garbageLoop = async () => {
      const headers = {
        "content-type": type,
        [H_UID]: victim.uid,
        [H_TS]: String(Math.floor(Date.now() / 1000)),
        [H_NONCE]: b64uencode(c.randomBytes(12)),
        [H_SIG]: b64uencode(c.randomBytes(64)),
      };
      await request(`${ctx.url}/file/upload`, { method: "POST", headers, body }, tb, stop);
    };
    const hb = await half(
      ctx,
      each,
      tb,
      Array.from({ length: GARBAGE_UPLOADERS }, () => garbageLoop),
    );
    report(ctx, "(b) garbage sig", hb, ctx.pid, tb);
  },
};
