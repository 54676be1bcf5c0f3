// Unlock: the password prompt (three tries), then an open Session.
import * as p from "@clack/prompts";
import { CryptoError, PhantomError } from "../../lib/errors.ts";
import { Session, type SessionHooks, sessionConfig } from "../core/session.ts";
import type { Ui } from "./ui.ts";

export const MAX_TRIES = 3;

/**
 * Ask before a direct connection to a relay that is not on this machine (IP visible).
 * Not asked with --direct or PHANTOM_DIRECT=1: the session accepts the connection itself.
 */
export function directConsent(ui: Ui): (reason: string) => Promise<boolean> {
  return async (reason) => {
    const ok = await p.confirm({
      message: ui.theme.warn(`No Tor: connect directly (${reason})? The relay will see your IP address.`),
      initialValue: false,
    });
    return ok === true;
  };
}

/** Resolves with the session, or null when the user cancels; three wrong passwords throw "wrong password". */
export async function unlock(ui: Ui, onWarning: SessionHooks["onWarning"]): Promise<Session | null> {
  for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
    const password = await p.password({
      message: "Password",
      validate: (v) => (v === undefined || v === "" ? "Type your password (Esc to quit)" : undefined),
    });
    if (p.isCancel(password)) return null;
    const s = p.spinner({ indicator: "dots" });
    s.start("Unlocking");
    try {
      const session = await Session.open(
        { ...sessionConfig(ui.config), password },
        { confirmDirect: directConsent(ui), onWarning },
      );
      s.stop("Unlocked");
      return session;
    } catch (e) {
      if (e instanceof CryptoError && e.code === "wrong-password") {
        s.error(ui.theme.danger(`Wrong password${attempt < MAX_TRIES ? ", try again" : ""}`));
        continue;
      }
      s.clear();
      throw e;
    }
  }
  throw new PhantomError("wrong-password", "wrong password");
}
