// What the screens need to say about a conversation's protocol (PROTOCOL-v3 §V1) and its v3
// safety code (§V2.1), gathered from the contact book and the relay. The words themselves are
// client/text/protocol.ts.

import type { Identity } from "../../lib/crypto.ts";
import { b64decode, b64udecode } from "../../lib/encoding.ts";
import { PhantomError } from "../../lib/errors.ts";
import { safetyCode } from "../../lib/v3/safety.ts";
import type { ContactRecord } from "../state/contacts.ts";
import type { ProtocolFacts } from "../text/protocol.ts";
import type { CorePort } from "./ports.ts";

/**
 * PROTOCOL-v3 §V1: whether the relay's /health lists protocol 3; null when the relay cannot be
 * asked (unreachable, direct connection refused…): the label then says what the book knows.
 */
export async function relayOffersV3(port: Pick<CorePort, "relay">): Promise<boolean | null> {
  try {
    return await (await port.relay()).offersV3();
  } catch {
    return null;
  }
}

/** The facts of one contact's conversation for protocolLabel; `relayV3` from relayOffersV3 (null: unknown). */
export function protocolFacts(rec: ContactRecord | undefined, relayV3: boolean | null = null): ProtocolFacts {
  return { protocol: rec?.protocol === 3 ? 3 : 2, v3Checked: rec?.v3_checked ?? null, relayV3 };
}

/**
 * PROTOCOL-v3 §V2.1: the safety code of our conversation with `peerUid` (8 groups of 5), from our
 * UID, IK and signing key and the contact's UID, pub_key and pinned v3_sign_pub; null for a contact
 * not pinned to v3 (v2 conversations keep the v2 fingerprint).
 */
export function contactSafetyCode(
  me: { uid: string; id: Pick<Identity, "encPub" | "signPub"> },
  peerUid: string,
  rec: ContactRecord | undefined,
): string | null {
  if (rec === undefined || rec.protocol !== 3 || rec.v3_sign_pub === undefined) return null;
  const ik = b64decode(rec.pub_key, "pub_key");
  const signPub = b64udecode(rec.v3_sign_pub, "v3_sign_pub");
  if (ik.length !== 32 || signPub.length !== 32) {
    throw new PhantomError("bad-contact", `the stored v3 keys of ${peerUid} are damaged (expected 32 bytes each)`);
  }
  return safetyCode({ uid: me.uid, ik: me.id.encPub, signPub: me.id.signPub }, { uid: peerUid, ik, signPub });
}
