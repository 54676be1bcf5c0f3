// The words for a conversation's protocol (PROTOCOL-v3 §V1), shared by the commands and the
// interactive client: "v3 · forward-secret" or "v2 · not forward-secret" and, for v2, one line
// saying why. Pure: what is known about the contact and the relay comes in.

export const LABEL_V3 = "v3 · forward-secret";
export const LABEL_V2 = "v2 · not forward-secret";

/** §V1: the relay's /health does not list 3, so no bundle can be asked for. */
export const REASON_RELAY_V2 = "the relay does not offer protocol v3";
/** §V1: a bundle request (§V3.3) found none (404). */
export const REASON_NO_BUNDLE = "peer uses Phantom 2.2 or has not published a v3 key bundle";
/** §V1: no bundle was asked for yet; it is before the first message. */
export const REASON_NOT_TRIED = "v3 is tried at the first message";

/** §V1: shown on a v2 message from a contact pinned to v3. */
export const DOWNGRADED_MARK = "(sent without forward secrecy)";
/** §V8 `history off`: a message decrypted before, whose text was not kept. */
export const ALREADY_READ_TEXT = "(already read — history is off)";

export interface ProtocolFacts {
  /** 3 when the contact is pinned to v3 (§V1), else 2. */
  protocol: 2 | 3;
  /** Unix seconds of the last bundle request that found none; null/absent: never asked (or found one). */
  v3Checked?: number | null;
  /** Whether the relay's /health lists protocol 3; null/absent when not known. */
  relayV3?: boolean | null;
}

export interface ProtocolLabel {
  short: typeof LABEL_V3 | typeof LABEL_V2;
  /** One line saying why a conversation is v2; null for v3. */
  reason: string | null;
}

/** PROTOCOL-v3 §V1: the label of a conversation and, for v2, why it is not forward-secret. */
export function protocolLabel(p: ProtocolFacts): ProtocolLabel {
  if (p.protocol === 3) return { short: LABEL_V3, reason: null };
  if (p.relayV3 === false) return { short: LABEL_V2, reason: REASON_RELAY_V2 };
  if (p.v3Checked !== undefined && p.v3Checked !== null) return { short: LABEL_V2, reason: REASON_NO_BUNDLE };
  return { short: LABEL_V2, reason: REASON_NOT_TRIED };
}

/** "v2 · not forward-secret (peer uses …)": the label and its reason on one line. */
export function protocolLine(p: ProtocolFacts): string {
  const l = protocolLabel(p);
  return l.reason === null ? l.short : `${l.short} (${l.reason})`;
}
