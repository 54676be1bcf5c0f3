// The menu's contact requests: people who added us and are not contacts. Each is shown with its
// fingerprint; the user accepts (a contact, its held messages then shown), blocks or leaves it.
import * as p from "@clack/prompts";
import type { RequestView, Session } from "../core/session.ts";
import { refreshState, type MenuState } from "./menu-state.ts";
import { fingerprintRows, type Ui } from "./ui.ts";

function dateOf(ts: number): string {
  const d = new Date(ts * 1000);
  const p2 = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}`;
}

async function retentionLine(session: Session): Promise<string> {
  try {
    const days = await session.messageRetentionDays();
    return `Their messages wait on the relay for ${days} day${days === 1 ? "" : "s"}, unread, until you accept.`;
  } catch {
    return "Their messages wait on the relay (for its retention), unread, until you accept.";
  }
}

/** Pick a request, then accept, block or leave it; until Esc or none is left. */
export async function answerRequests(ui: Ui, session: Session, st: MenuState): Promise<void> {
  await refreshState(session, st);
  for (;;) {
    const list = session.requests();
    st.requests = list.length;
    if (list.length === 0) return void p.log.info("No contact requests. People who add you appear here.");
    p.log.info(await retentionLine(session));
    const uid = await p.select<string>({
      message: `Contact requests (${list.length})`,
      options: list.map((r) => ({
        value: r.uid,
        label: r.uid,
        hint: `since ${dateOf(r.firstSeen)} · ${r.fingerprint.slice(0, 14)}…`,
      })),
    });
    if (p.isCancel(uid)) return;
    const r = list.find((x) => x.uid === uid)!;
    if (!(await answerOne(ui, session, r))) return;
    st.requests = session.requests().length;
  }
}

async function answerOne(ui: Ui, session: Session, r: RequestView): Promise<boolean> {
  const t = ui.theme;
  p.note(
    [
      `UID         ${r.uid}`,
      `first seen  ${dateOf(r.firstSeen)}`,
      "fingerprint",
      ...fingerprintRows(r.fingerprint).map((row) => `  ${t.bold(row)}`),
      "",
      t.dim("They added you. Accept only someone you know; compare the fingerprint with them."),
    ].join("\n"),
    "Contact request",
  );
  const what = await p.select<"accept" | "block" | "later">({
    message: "Their request",
    options: [
      { value: "accept", label: "Accept", hint: "a contact; their messages are shown" },
      { value: "block", label: "Block", hint: "drop their messages and requests" },
      { value: "later", label: "Later" },
    ],
    initialValue: "later",
  });
  if (p.isCancel(what)) return false;
  if (what === "accept") {
    session.accept(r.uid);
    p.log.success(`Accepted ${r.uid.slice(0, 8)}…: a contact now. Verify them when you can.`);
  } else if (what === "block") {
    session.block(r.uid);
    p.log.success(`Blocked ${r.uid.slice(0, 8)}…: their messages and requests are dropped.`);
  }
  return true;
}
