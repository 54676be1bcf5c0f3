// Test helper: users with fixed keys (derived from a name), so that terminal
// captures used as README screenshots show the same UIDs on every run. The
// identity file is written with the client's vault code and registered over HTTP.
import * as c from "../../lib/crypto.ts";
import { writeIdentity } from "../../client/state/vault.ts";
import { PASSWORD } from "./cli.ts";
import { register, type TestUser } from "./signer.ts";
import { b64encode, b64uencode } from "../../lib/encoding.ts";

export function demoIdentity(name: string): TestUser {
  const encPriv = c.sha256(`phantom demo encryption key: ${name}`);
  const signSeed = c.sha256(`phantom demo signing key: ${name}`);
  const id = { encPriv, encPub: c.x25519Public(encPriv), signSeed, signPub: c.ed25519Public(signSeed) };
  return { ...id, uid: c.uidOf(id.encPub), pubB64: b64encode(id.encPub), signPubB64u: b64uencode(id.signPub) };
}

/** identity.json for `name` in `home` (password PASSWORD), registered with the relay. */
export async function demoUser(
  name: string,
  home: string,
  relayUrl: string,
): Promise<{ uid: string; fingerprint: string }> {
  const u = demoIdentity(name);
  await writeIdentity(home, u, PASSWORD);
  const res = await register(relayUrl, u);
  if (res.status !== 200) throw new Error(`register ${name}: ${res.status}`);
  return { uid: u.uid, fingerprint: c.fingerprintOf(u.encPub) };
}
