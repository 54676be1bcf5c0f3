// Typed errors shared by both binaries (STYLE habit 6: typed errors, one printer).
// Messages may quote bad input, never a secret.

export class PhantomError extends Error {
  /** A short machine-readable code, e.g. "wrong-password". */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A cryptographic input or operation failed (bad length, bad tag, wrong password…). */
export class CryptoError extends PhantomError {}

/** Untrusted bytes did not parse (bad base64, schema mismatch, oversized field…). */
export class WireError extends PhantomError {}
