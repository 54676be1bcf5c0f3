// The socket under HTTP/1.1 through Tor: a SOCKS5 connection whose host name is
// resolved by the proxy (socks5h semantics, we never resolve it), optionally
// wrapped in TLS. The HTTP/1.1 exchange on that socket is lib/http1.ts.

import * as net from "node:net";
import * as tls from "node:tls";
import { SocksClient } from "socks";
import { PhantomError } from "./errors.ts";

/**
 * A request could not be completed. `sent` is false when nothing of the request
 * reached the relay (connection, proxy or TLS failure), so retrying cannot repeat it.
 */
export class TransportError extends PhantomError {
  readonly sent: boolean;
  constructor(code: string, message: string, sent: boolean, options?: { cause?: unknown }) {
    super(code, message, options);
    this.sent = sent;
  }
}

/** "host:port" with brackets around IPv6, for messages and Host headers. */
export function hostPort(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** URL.hostname keeps the brackets of an IPv6 literal; strip them. */
export function bareHost(hostname: string): string {
  return hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
}

/**
 * Connect to host:port through a SOCKS5 proxy. The destination host name goes to
 * the proxy as a name (ATYP 3); nothing is resolved or contacted locally except the proxy.
 */
export async function socksConnect(
  proxy: { host: string; port: number },
  dest: { host: string; port: number },
  timeoutMs: number,
): Promise<net.Socket> {
  const where = hostPort(proxy.host, proxy.port);
  try {
    const { socket } = await SocksClient.createConnection({
      command: "connect",
      proxy: { host: proxy.host, port: proxy.port, type: 5 },
      destination: { host: dest.host, port: dest.port },
      timeout: timeoutMs,
    });
    return socket;
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    const rejected = /Socks5 proxy rejected connection - (\w+)/.exec(msg);
    if (rejected) {
      const why = rejected[1]!.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
      return Promise.reject(
        new TransportError(
          "proxy-refused",
          `the Tor proxy at ${where} could not reach ${hostPort(dest.host, dest.port)} (${why})`,
          false,
          { cause },
        ),
      );
    }
    const reason = /ECONNREFUSED/.test(msg)
      ? "connection refused"
      : /timed out/i.test(msg)
        ? "no answer"
        : /closed/i.test(msg)
          ? "connection closed"
          : "not a SOCKS5 proxy";
    throw new TransportError(
      "proxy-unreachable",
      `the Tor proxy at ${where} is not answering (${reason}); not connecting directly`,
      false,
      { cause },
    );
  }
}

/** Wrap a connected socket in TLS, verifying the certificate against `servername`. */
export function startTls(
  socket: net.Socket,
  servername: string,
  extra: tls.ConnectionOptions = {},
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const opts: tls.ConnectionOptions = {
      ...extra,
      socket,
      ALPNProtocols: ["http/1.1"],
      // Always, whatever `extra` or NODE_TLS_REJECT_UNAUTHORIZED says (SECURITY.md "Environment variables").
      rejectUnauthorized: true,
      // Checked against the relay's host. Left to itself, TLS checks an IP-literal host (no SNI)
      // against the address the socket is connected to: the SOCKS proxy's, not the relay's.
      checkServerIdentity: (_host, cert) => tls.checkServerIdentity(servername, cert),
    };
    if (!net.isIP(servername)) opts.servername = servername;
    const t = tls.connect(opts);
    t.once("secureConnect", () => {
      t.removeAllListeners("error");
      resolve(t);
    });
    t.once("error", (cause) =>
      reject(new TransportError("tls", `TLS with ${servername} failed: ${cause.message}`, false, { cause })),
    );
  });
}
