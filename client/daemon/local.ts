// A command's own process without a daemon: the API's methods (methods.ts) on a Session it
// unlocked itself, checked against the same schemas, so its output is the daemon's.

import { PhantomError } from "../../lib/errors.ts";
import type { Session } from "../core/session.ts";
import { type Method, METHODS, type Params, type Result } from "./api.ts";
import type { Api, CallOptions } from "./client.ts";
import { HANDLERS } from "./methods.ts";

export class LocalApi implements Api {
  readonly viaDaemon = false;
  readonly session: Session;

  constructor(session: Session) {
    this.session = session;
  }

  async call<M extends Method>(method: M, params: Params<M>, o: CallOptions = {}): Promise<Result<M>> {
    const spec = METHODS[method];
    const h = HANDLERS[method] as ((s: Session, p: unknown, env: object) => Promise<unknown>) | undefined;
    if (!h) throw new PhantomError("needs-daemon", `${method} is served by a running daemon only`);
    const result = await h(this.session, spec.params.parse(params), { onProgress: o.onProgress, signal: o.signal });
    return spec.result.parse(result) as Result<M>;
  }

  close(): void {
    this.session.close();
  }
}
