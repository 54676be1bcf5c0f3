// PROTOCOL-v3 §V12: every refusal of the v3 code carries one of these reason codes.
import { PhantomError } from "../errors.ts";

export const V3_REASONS = [
  "malformed",
  "unknown-type",
  "unknown-session",
  "sid-mismatch",
  "unknown-spk",
  "unknown-opk",
  "unknown-pqk",
  "dropped-session",
  "low-order",
  "old-index",
  "too-many-skipped",
  "aead",
  "bad-length",
  "nonzero-padding",
  "too-long",
  "bundle-uid",
  "bundle-length",
  "bundle-sig",
  "bundle-pin",
  "file-truncated",
  "file-trailing",
  "file-chunk-auth",
] as const;
export type V3Reason = (typeof V3_REASONS)[number];

/** A v3 refusal: `reason` is the §V12 code; the message is "<reason>" or "<reason>: <detail>" (never a secret). */
export class V3Error extends PhantomError {
  readonly reason: V3Reason;
  constructor(reason: V3Reason, detail?: string, options?: { cause?: unknown }) {
    super(reason, detail ? `${reason}: ${detail}` : reason, options);
    this.reason = reason;
  }
}
