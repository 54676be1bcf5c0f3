// What the actions of core/ get from the Session that wires them: each action declares the
// narrow part it uses (a port), and Session satisfies them all. Actions never import Session.

import type { Identity } from "../../lib/crypto.ts";
import type { BurnKey, RelayClient } from "../net/relay-client.ts";
import type { ContactBook, ContactView } from "../state/contacts.ts";
import type { RequestView } from "../state/requests.ts";
import type { ChatMessage, DecodedMessage, RoomContext } from "./conversation.ts";

/** The unlocked identity, its contact book and its relay. */
export interface CorePort {
  readonly uid: string;
  readonly id: Identity;
  readonly home: string;
  readonly relayUrl: string;
  /** The contact book as last read or written by this process. */
  readonly book: ContactBook;
  /** UIDs first seen in this run's key-exchange inbox. */
  readonly newUids: Set<string>;
  /** UIDs of the book the inbox reader has reported (or that were there at open, or were added here). */
  readonly knownUids: Set<string>;
  /** Read the contact file again (another process may have changed it). */
  reloadBook(): void;
  /** The relay client; asks for direct-connection consent at first use. */
  relay(): Promise<RelayClient>;
  /** Something the user should know that is not an error. */
  /** `about` "relay": the relay could not be reached (the warning is stale once it answers). */
  warn(message: string, about?: "relay"): void;
  /** PROTOCOL §4 pair keys of a contact (refuses a contact whose verified key changed). */
  keys(uid: string, o?: { allowBlocked?: boolean }): { roomId: string; sessionKey: Uint8Array };
  /** Apply a change to the contact file (re-read first, so another process's change is kept). */
  mutate<T>(change: (b: ContactBook) => T): T;
  /** A new contact request was stored (a key-exchange notice from someone not in the book). */
  onRequest(r: RequestView): void;
}

/** Registration and the key exchange (core/key-exchange.ts). */
export type KeyExchangePort = Pick<
  CorePort,
  | "uid"
  | "id"
  | "home"
  | "relayUrl"
  | "book"
  | "newUids"
  | "knownUids"
  | "reloadBook"
  | "relay"
  | "warn"
  | "keys"
  | "mutate"
  | "onRequest"
>;

/** Contact requests and blocking (core/requests.ts). */
export type RequestsPort = Pick<CorePort, "uid" | "home" | "book" | "newUids" | "mutate">;

/** Sending (core/outgoing.ts). */
export interface OutgoingPort extends Pick<CorePort, "uid" | "keys" | "relay"> {
  files(uid: string): Promise<ChatMessage[]>;
}

/** Receiving: files and live delivery (core/receive.ts). */
export interface ReceivePort extends Pick<CorePort, "uid" | "home" | "book" | "keys" | "relay" | "warn"> {
  contact(uidOrNick: string): ContactView;
  /** PROTOCOL-v3 §V8: the local history of a conversation (ts ≥ sinceTs), oldest first. */
  localHistory(uid: string, sinceTs?: number): DecodedMessage[];
  /** How the rows of a contact's room are opened (v2 pair key; v3 through state.db). */
  roomContext(uid: string): RoomContext;
  decoded(uid: string): Promise<DecodedMessage[]>;
  processInbox(): Promise<ContactView[]>;
  /** Read the book again if another process changed it; true when it had changed. */
  reloadContacts(): boolean;
  /** How long ids of shown messages are kept: the relay's message retention (§7.10), else 30 days. */
  shownWindowS(): Promise<number>;
}

/** Unread counts (core/unread.ts). */
export interface UnreadPort extends Pick<CorePort, "home" | "book"> {
  decoded(uid: string): Promise<DecodedMessage[]>;
}

/** What burns rooms on one relay (a RelayClient). */
export interface Burner {
  burn(roomId: string): Promise<number>;
}

/** Panic: the burn list, the wipe, the burns (core/panic.ts). */
export interface PanicPort extends Pick<CorePort, "book" | "home" | "relay"> {
  /** PROTOCOL §4.1: the room id of a contact. */
  roomOf(uid: string): string;
  /** What the burn list is made of: the UID, a copy of the signing seed, the relay, the password to seal with. */
  burnSeed(): { uid: string; signSeed: Uint8Array; url: string; password: string };
  /** A relay client on this session's route (consent already given) that signs with `signSeed` only. */
  burner(signSeed: Uint8Array, burnKey: BurnKey | null): Burner;
  /** Forget the identity's keys. */
  close(): void;
}
