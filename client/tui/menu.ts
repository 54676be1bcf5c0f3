// The main menu: unread counts (refreshed every 5 s in place), the mascot beside
// the options, and one entry per action. Every action calls the Session; an error
// is shown in one line and the menu comes back.
import * as p from "@clack/prompts";
import type { Session } from "../core/session.ts";
import { runChat } from "./chat-screen.ts";
import { liveSelect, type LiveOption, type LiveView } from "./live-select.ts";
import { mascot } from "./mascots.ts";
import * as act from "./menu-actions.ts";
import { refreshState, reloadContacts, type MenuState } from "./menu-state.ts";
import { answerRequests } from "./menu-requests.ts";
import { runSettings } from "./settings-screen.ts";
import { errorText, type Ui } from "./ui.ts";

export const REFRESH_MS = 5000;

type Item =
  | "message"
  | "add"
  | "contacts"
  | "requests"
  | "uid"
  | "burn"
  | "nick"
  | "remove"
  | "verify"
  | "tor"
  | "settings"
  | "panic"
  | "quit";

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

function view(ui: Ui, session: Session, st: MenuState): LiveView<Item> {
  const t = ui.theme;
  const n = total(st.counts);
  const contacts = session.contacts();
  const unverified = contacts.filter((c) => !c.verified).length;
  const badge = n > 0 ? `  ${t.accent(`[${n} unread]`)}` : "";
  const options: LiveOption<Item>[] = [
    {
      value: "message",
      label: "Message a contact",
      hint: n > 0 ? `${n} unread` : contacts.length === 0 ? "add a contact first" : undefined,
    },
    { value: "add", label: "Add a contact" },
    { value: "contacts", label: "Contacts", hint: contacts.length > 0 ? String(contacts.length) : undefined },
    { value: "requests", label: "Contact requests", hint: st.requests > 0 ? `${st.requests} waiting` : undefined },
    { value: "uid", label: "My UID (QR)" },
    { value: "burn", label: "Delete messages (burn)" },
    { value: "nick", label: "Set nickname" },
    { value: "remove", label: "Remove contact" },
    { value: "verify", label: "Verify a contact", hint: unverified > 0 ? `${unverified} not verified` : undefined },
    { value: "tor", label: "Tor status" },
    { value: "settings", label: "Settings" },
    { value: "panic", label: "Panic wipe", danger: true },
    { value: "quit", label: "Quit" },
  ];
  const notice = st.offline
    ? t.warn(`offline: ${st.offline} · retrying every ${REFRESH_MS / 1000} s`)
    : st.notices.length > 0
      ? t.accent(st.notices[st.notices.length - 1]!)
      : "";
  return { message: `Phantom${badge}`, options, notice };
}

export async function runMenu(ui: Ui, session: Session, st: MenuState): Promise<"quit" | "wiped"> {
  const t = ui.theme;
  const header = `${t.bold("phantom")} · ${t.dim(session.uid)} · ${session.viaTor ? t.ok("via Tor") : t.warn("direct")}`;
  p.log.message(header, { symbol: t.accent("●") });
  await refreshState(session, st);
  let last: Item = "message";
  for (;;) {
    reloadContacts(session, st);
    const v = view(ui, session, st);
    const choice: Item | null = await liveSelect<Item>({
      ...v,
      theme: ui.theme,
      initialValue: last,
      wrap: false, // up from the first entry stays there: it never lands on Quit
      side: mascot(ui.settings.mascot),
      footer: "↑/↓ choose · enter open · esc quit",
      refreshMs: REFRESH_MS,
      refresh: async () => {
        await refreshState(session, st);
        return view(ui, session, st);
      },
    });
    // Esc leaves at once (a deliberate key); the Quit entry, one Enter away from any slip, asks first.
    if (choice === "quit" && (await p.confirm({ message: "Quit Phantom?", initialValue: true })) !== true) {
      last = "quit";
      continue;
    }
    if (choice === null || choice === "quit") {
      p.outro(t.dim("Bye."));
      return "quit";
    }
    last = choice;
    st.notices = [];
    try {
      switch (choice) {
        case "message": {
          const uid = await act.pickContact(ui, session, "Message whom?", st);
          if (uid) {
            await runChat(ui, session, uid);
            await refreshState(session, st);
          }
          break;
        }
        case "add":
          await act.addContact(ui, session);
          break;
        case "contacts":
          act.showContacts(ui, session, st);
          break;
        case "requests":
          await answerRequests(ui, session, st);
          break;
        case "uid":
          act.showUid(ui, session);
          break;
        case "burn":
          await act.burnMessages(ui, session, st);
          break;
        case "nick":
          await act.setNickname(ui, session, st);
          break;
        case "remove":
          await act.removeContact(ui, session, st);
          break;
        case "verify":
          await act.verifyContact(ui, session, st);
          break;
        case "tor":
          await act.torInfo(ui, session);
          break;
        case "settings":
          await runSettings(ui);
          break;
        case "panic":
          if (await act.panicWipe(ui, session)) return "wiped";
          break;
      }
    } catch (e) {
      p.log.error(t.danger(errorText(e)));
    }
  }
}
