// Crypto benchmark (not a test): `./build.sh bench crypto`. Prints the speed of
// the operations a user waits for: vault unlock (PROTOCOL §3), messages (§5.1),
// request signatures (§6), pairwise keys (§4) and file encryption (§5.3).
import * as c from "../lib/crypto.ts";
import { encodeEnvelope } from "../lib/wire.ts";
import { VERSION } from "../lib/version.ts";

const MIN_MS = 1000;

/** Runs `fn` repeatedly for about MIN_MS after a short warm-up; returns operations per second. */
function opsPerSecond(fn: () => unknown): number {
  for (let i = 0; i < 50; i++) fn();
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < MIN_MS) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    elapsed = performance.now() - start;
  }
  return (n * 1000) / elapsed;
}

function row(name: string, value: string) {
  console.log(`${name.padEnd(34)} ${value}`);
}
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

console.log(`phantom ${VERSION} crypto benchmark — bun ${Bun.version}, ${process.platform}/${process.arch}`);

const alice = c.generateIdentity();
const bob = c.generateIdentity();
const { sessionKey } = c.pairKeys(alice, bob.encPub);

// §3 vault unlock: median of 5 openVault (scrypt N = 2^17 dominates).
const vault = await c.sealVault(alice, "correct horse battery");
const unlocks: number[] = [];
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  await c.openVault(vault, "correct horse battery");
  unlocks.push(performance.now() - t);
}
unlocks.sort((a, b) => a - b);
row("vault unlock (median of 5)", `${unlocks[2]!.toFixed(0)} ms`);

// §5.1 messages with a 1 KiB body.
const plaintext = encodeEnvelope(c.uidOf(alice.encPub), "x".repeat(1024));
const ciphertext = c.encryptMessage(sessionKey, plaintext);
row("message encrypt (1 KiB body)", `${fmt(opsPerSecond(() => c.encryptMessage(sessionKey, plaintext)))} ops/s`);
row("message decrypt (1 KiB body)", `${fmt(opsPerSecond(() => c.decryptMessage(sessionKey, ciphertext)))} ops/s`);

// §6 Ed25519, native; verification with a cached KeyObject, as the relay does.
const canonical = "POST\n/send\nuid\n1767225600\nnonce\n" + "0".repeat(64);
const sig = c.sign(alice.signSeed, canonical);
const verifyKey = c.ed25519VerifyKey(alice.signPub);
row("Ed25519 sign", `${fmt(opsPerSecond(() => c.sign(alice.signSeed, canonical)))} ops/s`);
row("Ed25519 verify (cached key)", `${fmt(opsPerSecond(() => c.verify(verifyKey, canonical, sig)))} ops/s`);

// §4 X25519 + HKDF: what a client does per contact.
row("X25519 pairKeys", `${fmt(opsPerSecond(() => c.pairKeys(alice, bob.encPub)))} ops/s`);

// §5.3 file encryption throughput on 8 MiB.
const data = c.randomBytes(8 * 1024 * 1024);
const fileKey = c.randomBytes(32);
const fileNonce = c.randomBytes(12);
c.encryptFile(fileKey, fileNonce, data.subarray(0, 1024 * 1024)); // warm-up
const runs: number[] = [];
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  c.encryptFile(fileKey, fileNonce, data);
  runs.push(performance.now() - t);
}
runs.sort((a, b) => a - b);
row("file encrypt (8 MiB, median of 3)", `${(8 / (runs[1]! / 1000)).toFixed(0)} MiB/s`);
