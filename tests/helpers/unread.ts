// Test helper: connections that send a request and never read its answer, with a tiny
// receive buffer (SO_RCVBUF, which node:net cannot set), so that on loopback the kernel
// cannot take a whole 4 MiB answer off the relay's hands: the answer stays in flight.
// A small python3 process holds them (the suite already needs python3 for tests/py).
import type { TestUser } from "./signer.ts";
import { signHeaders } from "./signer.ts";
import { within } from "./deadline.ts";

const HOLDER = `
import json, socket, sys
port = int(sys.argv[1])
requests = json.loads(sys.stdin.readline())
socks = []
for r in requests:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(r.encode("latin1"))
    socks.append(s)
statuses = {}
for s in socks:
    head = s.recv(12).decode("latin1")
    statuses[head[9:12]] = statuses.get(head[9:12], 0) + 1
print(json.dumps(statuses), flush=True)
sys.stdin.read()
`;

/** The raw bytes of a signed POST with a JSON body (PROTOCOL §6). */
export function rawSignedPost(u: TestUser, path: string, body: object): string {
  const text = JSON.stringify(body);
  const h = signHeaders(u, "POST", path, new TextEncoder().encode(text));
  const lines = Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`);
  return (
    `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
    `content-length: ${text.length}\r\n${lines.join("")}\r\n${text}`
  );
}

export interface Held {
  /** Status codes of the answers, once their first bytes arrived: {"200": 2, "429": 1}. */
  statuses: Record<string, number>;
  close(): Promise<void>;
}

/** Send each request on its own connection and keep them all open, unread, until close(). */
export async function holdUnread(port: number, requests: string[]): Promise<Held> {
  const p = Bun.spawn(["python3", "-c", HOLDER, String(port)], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  p.stdin.write(JSON.stringify(requests) + "\n");
  await p.stdin.flush();
  const reader = p.stdout.getReader();
  let text = "";
  const firstLine = async () => {
    while (!text.includes("\n")) {
      const r = await reader.read();
      if (r.done) throw new Error(`the unread-connection holder exited early (code ${await p.exited}): ${text}`);
      text += new TextDecoder().decode(r.value);
    }
  };
  await within(
    firstLine(),
    30_000,
    () => `the unread-connection holder gave no statuses within 30 s (killed); got: ${JSON.stringify(text)}`,
    () => p.kill("SIGKILL"),
  );
  return {
    statuses: JSON.parse(text) as Record<string, number>,
    async close() {
      await p.stdin.end();
      await p.exited;
    },
  };
}
