// One HTTPS GET to an update server, with the server's key pinned (issue 11): normal CA
// validation (system roots, NODE_EXTRA_CA_CERTS) PLUS the SHA-256 of the certificate's
// SubjectPublicKeyInfo. The pin is checked synchronously in checkServerIdentity, during the
// handshake: on a mismatch (or when no pin is stored yet) the connection is torn down before
// a single request byte is written. Direct, or through the Tor SOCKS5 proxy (the proxy
// resolves the host name; there is no code path from a Tor route to a direct connection).
// http:// only to this machine (tests); to a remote host it is refused.

import { createHash, X509Certificate } from "node:crypto";
import * as net from "node:net";
import * as tls from "node:tls";
import type { Duplex } from "node:stream";
import { PhantomError } from "../errors.ts";
import { http1Exchange, TooLarge, type HttpResponse } from "../http1.ts";
import { bareHost, hostPort, socksConnect } from "../socks-http.ts";
import { isLoopbackHost } from "../tor.ts";

export class UpdateError extends PhantomError {}

/** No pin is stored for this host yet: `seen` is what the server showed (nothing was sent). */
export class PinNeeded extends UpdateError {
  constructor(
    readonly host: string,
    readonly seen: string,
  ) {
    super("pin-needed", `no key pinned for the update server ${host}`);
  }
}

/** The server's key is not the pinned one (nothing was sent). */
export class PinMismatch extends UpdateError {
  constructor(
    readonly host: string,
    readonly pinned: string,
    readonly seen: string,
  ) {
    super("pin-mismatch", `the update server ${host} shows key sha256/${seen}, but sha256/${pinned} is pinned`);
  }
}

export type UpdateRoute = { via: "direct" } | { via: "tor"; proxyHost: string; proxyPort: number };

export interface PinnedGetOptions {
  route: UpdateRoute;
  /** The pin stored for this host (base64 SHA-256 of the SPKI), or null: then the request is not sent (PinNeeded). */
  pin: string | null;
  timeoutMs: number;
  maxBytes: number;
  /** Stream the body here instead of keeping it (then the response body is empty). */
  onBodyPart?: (part: Uint8Array) => void;
  /** Extra CA certificates (PEM), for tests; NODE_EXTRA_CA_CERTS works too. */
  ca?: string;
}

/** base64 SHA-256 of a certificate's SubjectPublicKeyInfo (DER): the pin. */
export function spkiPin(certDer: Uint8Array): string {
  const spki = new X509Certificate(certDer).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("base64");
}

/** "host:port" of a URL, as the pins file keys it. */
export function pinKey(u: URL): string {
  return hostPort(bareHost(u.hostname), Number(u.port || (u.protocol === "https:" ? 443 : 80)));
}

/** Refuse what is not https (http only to this machine), in one line. */
export function checkUpdateUrl(u: URL): void {
  if (u.protocol === "https:") return;
  if (u.protocol === "http:" && isLoopbackHost(u.hostname)) return;
  if (u.protocol === "http:")
    throw new UpdateError("http-remote", `refusing an update over http:// from ${u.host}: use an https:// URL`);
  throw new UpdateError("bad-update-url", `the update URL must start with https://, got '${u.protocol}'`);
}

export async function pinnedGet(u: URL, o: PinnedGetOptions): Promise<HttpResponse> {
  checkUpdateUrl(u);
  const host = bareHost(u.hostname);
  const port = Number(u.port || (u.protocol === "https:" ? 443 : 80));
  let sock: Duplex | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      sock?.destroy();
      reject(new UpdateError("timeout", `no complete answer from ${u.host} within ${o.timeoutMs / 1000} s`));
    }, o.timeoutMs);
  });
  timeout.catch(() => {});
  const work = (async () => {
    const raw =
      o.route.via === "tor"
        ? await socksConnect({ host: o.route.proxyHost, port: o.route.proxyPort }, { host, port }, o.timeoutMs)
        : await connectDirect(host, port);
    sock = raw;
    const s = u.protocol === "https:" ? await pinnedTls(raw, host, pinKey(u), o) : raw;
    sock = s;
    try {
      return await http1Exchange(
        s,
        { method: "GET", host: u.host, path: u.pathname + u.search, headers: { accept: "*/*" } },
        { maxResponseBytes: o.maxBytes, onBodyPart: o.onBodyPart },
        () => {},
      );
    } catch (cause) {
      if (cause instanceof TooLarge)
        throw new UpdateError("too-large", `${u.pathname} from ${u.host} is bigger than announced`, { cause });
      const why = cause instanceof Error ? cause.message : String(cause);
      throw new UpdateError("broken", `download of ${u.pathname} from ${u.host} failed: ${why}`, { cause });
    } finally {
      s.destroy();
    }
  })();
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function connectDirect(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    s.once("connect", () => {
      s.removeAllListeners("error");
      resolve(s);
    });
    s.once("error", (cause: NodeJS.ErrnoException) =>
      reject(
        new UpdateError(
          "unreachable",
          `cannot connect to the update server ${hostPort(host, port)} (${cause.code ?? cause.message})`,
          {
            cause,
          },
        ),
      ),
    );
  });
}

function pinnedTls(raw: net.Socket, host: string, key: string, o: PinnedGetOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    let pinError: UpdateError | null = null;
    const opts: tls.ConnectionOptions = {
      socket: raw,
      ALPNProtocols: ["http/1.1"],
      // Always, whatever NODE_TLS_REJECT_UNAUTHORIZED says.
      rejectUnauthorized: true,
      // Called during the handshake, before secureConnect: the request is written only after it.
      checkServerIdentity: (_h, cert) => {
        const name = tls.checkServerIdentity(host, cert);
        if (name) return name;
        const seen = spkiPin(cert.raw);
        if (o.pin === null) pinError = new PinNeeded(key, seen);
        else if (seen !== o.pin) pinError = new PinMismatch(key, o.pin, seen);
        return pinError ?? undefined;
      },
    };
    if (o.ca) opts.ca = o.ca;
    if (!net.isIP(host)) opts.servername = host;
    const t = tls.connect(opts);
    t.once("secureConnect", () => {
      t.removeAllListeners("error");
      if (pinError) {
        // Never reached (checkServerIdentity's error aborts the handshake); kept as a second lock.
        t.destroy();
        reject(pinError);
      } else resolve(t);
    });
    t.once("error", (cause) => {
      t.destroy();
      reject(
        pinError ?? new UpdateError("tls", `TLS with the update server ${key} failed: ${cause.message}`, { cause }),
      );
    });
  });
}
