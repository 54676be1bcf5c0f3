// Test helper for the listen tests: bob is a CLI user (dist/phantom, his own PHANTOM_HOME);
// his peers are test-side users with real keys and a RelayClient, so a test controls the exact
// ciphertext bytes sent (a replay sends the same bytes again).
import { encryptMessage, pairKeys } from "../../lib/crypto.ts";
import { encodeEnvelope } from "../../lib/wire.ts";
import type { RelayClient } from "../../client/net/relay-client.ts";
import { client } from "./clients.ts";
import { within, tail } from "./deadline.ts";
import { ok, type User, userEnv } from "./cli.ts";
import { makeUser, type TestUser } from "./signer.ts";

/** A CLI user with an identity, registered with the relay. */
export async function cliUser(home: string, relayUrl: string): Promise<User> {
  const u = { home, env: userEnv(home, relayUrl) } as User;
  u.uid = (await ok(u, ["init", "--json"])).json()[0]!.uid as string;
  return u;
}

export interface Peer {
  user: TestUser;
  relay: RelayClient;
  roomId: string;
  /** Send a text message; returns its ciphertext and the relay's ts. */
  send(text: string): Promise<{ ciphertext: string; ts: number }>;
}

/** A registered test-side user who wrote bob a key-exchange notice (PROTOCOL §7.4), not yet read by bob. */
export async function peerOf(relayUrl: string, bob: User): Promise<Peer> {
  const user = makeUser();
  const relay = client(relayUrl, user);
  await relay.register(user.uid, user.pubB64, user.signPubB64u);
  const { roomId, sessionKey } = pairKeys(user, (await relay.pubkey(bob.uid))!);
  await relay.kePush({ from_uid: user.uid, to_uid: bob.uid, pub_key: user.pubB64, room_id: roomId });
  return {
    user,
    relay,
    roomId,
    send: async (text) => {
      const ciphertext = encryptMessage(sessionKey, encodeEnvelope(user.uid, text));
      return { ciphertext, ts: await relay.send(roomId, ciphertext) };
    },
  };
}

/** Every line still to come on stdout once the process has exited (it must exit within 20 s). */
export async function restOf(proc: { exited: Promise<number> }, out: AsyncGenerator<string>) {
  const rest: string[] = [];
  const drain = (async () => {
    for await (const l of out) rest.push(l);
  })();
  const code = await within(proc.exited, 20_000, () => `listen did not exit; more lines:\n${tail(rest.join("\n"))}`);
  await within(drain, 20_000, () => "listen's stdout did not end");
  return { code, rest };
}
