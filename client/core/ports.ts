// What the actions of core/ get from the Session that wires them: each action declares the
// narrow part it uses (a port), and Session satisfies them all. Actions never import Session.

import type { Identity } from "../../lib/crypto.ts";
import type { RelayClient } from "../net/relay-client.ts";
import type { ContactBook, ContactView } from "../state/contacts.ts";
import type { ChatMessage, DecodedMessage } from "./conversation.ts";

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
  /** The relay client; asks for direct-connection consent at first use. */
  relay(): Promise<RelayClient>;
  /** Something the user should know that is not an error. */
  warn(message: string): void;
  /** PROTOCOL §4 pair keys of a contact (refuses a contact whose verified key changed). */
  keys(uid: string, o?: { allowBlocked?: boolean }): { roomId: string; sessionKey: Uint8Array };
  /** Apply a change to the contact file (re-read first, so another process's change is kept). */
  mutate<T>(change: (b: ContactBook) => T): T;
}

/** Registration and the key exchange (core/key-exchange.ts). */
export type KeyExchangePort = Pick<
  CorePort,
  "uid" | "id" | "relayUrl" | "book" | "newUids" | "relay" | "warn" | "keys" | "mutate"
>;

/** Sending (core/outgoing.ts). */
export interface OutgoingPort extends Pick<CorePort, "uid" | "keys" | "relay"> {
  files(uid: string): Promise<ChatMessage[]>;
}

/** Receiving: files and live delivery (core/receive.ts). */
export interface ReceivePort extends Pick<CorePort, "uid" | "home" | "book" | "keys" | "relay" | "warn"> {
  contact(uidOrNick: string): ContactView;
  decoded(uid: string): Promise<DecodedMessage[]>;
  processInbox(): Promise<ContactView[]>;
  /** Read contacts.json again if another process changed it; true when it had changed. */
  reloadContacts(): boolean;
  /** How long ids of shown messages are kept: the relay's message retention (§7.10), else 30 days. */
  shownWindowS(): Promise<number>;
}

/** Unread counts (core/unread.ts). */
export interface UnreadPort extends Pick<CorePort, "home" | "book"> {
  decoded(uid: string): Promise<DecodedMessage[]>;
}

/** Burning every room before a wipe (core/panic.ts). */
export interface PanicPort extends Pick<CorePort, "book" | "relay" | "warn"> {
  burn(uid: string): Promise<number>;
}
