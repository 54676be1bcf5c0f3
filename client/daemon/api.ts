// The daemon's JSON-RPC 2.0 API (`phantom daemon`): every method's request and result, and
// every event, as zod schemas. The server checks each request against them before a method
// runs and each result before it is sent; `phantom daemon --schema` prints them as JSON
// Schema. Nothing here carries key material: fingerprints and safety codes are digests of
// public keys, the rest is what the user sees on a screen.

import { z } from "zod";
import { SETTINGS_KEYS } from "../core/settings.ts";

/** A contact, named by UID or nickname. */
const ContactRef = z.string().min(1).max(200).describe("UID or nickname");
const UidOut = z.string().describe("28-character UID");

const FileInfo = z.strictObject({
  n: z.number().int().describe("the file's number in the conversation (getFile)"),
  name: z.string(),
  size: z.number().int(),
  mime: z.string(),
});

export const Message = z.strictObject({
  id: z.string().describe("the stored row's message id; two messages never share it"),
  ts: z.number().int().describe("Unix time (s) the relay stored it"),
  from: UidOut.describe('sender UID; "" for a legacy v2 row whose sender is unknown'),
  mine: z.boolean(),
  body: z.string().describe("the text; for a file, its cleaned name"),
  file: FileInfo.optional(),
  protocol: z.union([z.literal(2), z.literal(3)]).optional(),
  downgraded: z.literal(true).optional().describe("a v2 message from a contact pinned to v3"),
  alreadyRead: z.literal(true).optional().describe("history off: decrypted before, its text not kept"),
});
export type Message = z.infer<typeof Message>;

export const Contact = z.strictObject({
  uid: UidOut,
  nickname: z.string().nullable(),
  fingerprint: z.string(),
  verified: z.boolean(),
  keyChanged: z.boolean(),
  isNew: z.boolean(),
  protocol: z.union([z.literal(2), z.literal(3)]),
  /** Why the conversation is in that protocol (the words `phantom contacts` prints). */
  protocolLine: z.string(),
});
export type Contact = z.infer<typeof Contact>;

const Request = z.strictObject({
  uid: UidOut,
  fingerprint: z.string(),
  firstSeen: z.number().int(),
  roomId: z.string(),
});
const Blocked = z.strictObject({ uid: UidOut, nickname: z.string().nullable(), blockedAt: z.number().int() });
const Was = z.enum(["contact", "request", "unknown"]);
const Empty = z.strictObject({});
const Ok = z.strictObject({ ok: z.literal(true) });

/**
 * The settings the API may read and change: those of `phantom settings` (core/settings.ts) but the
 * custom colour and the motd list's edits, which take words of their own.
 */
const NOT_IN_API = ["color", "motd-add", "motd-clear"] as const;
type ApiSettingKey = Exclude<(typeof SETTINGS_KEYS)[number], (typeof NOT_IN_API)[number]>;
export const SETTING_KEYS = SETTINGS_KEYS.filter(
  (k): k is ApiSettingKey => !(NOT_IN_API as readonly string[]).includes(k),
) as [ApiSettingKey, ...ApiSettingKey[]];

/** Who this is and how the relay is reached (no key material: the fingerprint is a digest). */
export const Identity = z.strictObject({
  uid: UidOut,
  fingerprint: z.string(),
  relay: z.string(),
  viaTor: z.boolean(),
  tor: z.string().describe('the Tor setting: "MODE HOST:PORT"'),
  torMissing: z.boolean().describe("Tor is required and its proxy is not answering"),
  conversations: z.array(z.strictObject({ uid: UidOut, protocol: z.union([z.literal(2), z.literal(3)]) })),
});

export const Status = Identity.extend({
  version: z.string(),
  daemon: z.strictObject({
    pid: z.number().int(),
    since: z.number().int().describe("Unix time (s) it started"),
    socket: z.string(),
    http: z.string().nullable().describe("the --http address, when it listens on one"),
  }),
  contacts: z.number().int(),
  requests: z.number().int(),
  relayStatus: z.enum(["connected", "connecting", "unreachable"]),
});

/** Every method: its params and its result. */
export const METHODS = {
  identity: { params: Empty, result: Identity, doc: "who this is and how the relay is reached" },
  route: {
    params: Empty,
    result: z.strictObject({ relay: z.string(), tor: z.string() }),
    doc: "the relay and the Tor setting the daemon uses (what a command checks before it goes through it)",
  },
  status: { params: Empty, result: Status, doc: "identity, and the daemon: its process, socket, relay connection" },
  "contacts.list": {
    params: Empty,
    result: z.strictObject({ contacts: z.array(Contact), requests: z.number().int(), relayReached: z.boolean() }),
    doc: "the contacts (reading the key-exchange inbox first: new requests)",
  },
  "contacts.get": { params: z.strictObject({ contact: ContactRef }), result: Contact, doc: "one contact" },
  "contacts.requests": {
    params: Empty,
    result: z.strictObject({ requests: z.array(Request), retentionDays: z.number().int().nullable() }),
    doc: "contact requests: people who added us, held until accepted",
  },
  "contacts.blocked": { params: Empty, result: z.strictObject({ blocked: z.array(Blocked) }), doc: "blocked UIDs" },
  "contacts.add": {
    params: z.strictObject({
      uid: z.string().min(1).max(64),
      nick: z.string().min(1).max(64).optional(),
      trust: z.boolean().optional(),
    }),
    result: Contact,
    doc: "add a contact by UID: fetch and pin their key, tell them",
  },
  "contacts.accept": {
    params: z.strictObject({ uid: z.string().min(1).max(64) }),
    result: Contact,
    doc: "accept a contact request",
  },
  "contacts.block": {
    params: z.strictObject({ contact: ContactRef }),
    result: z.strictObject({ uid: UidOut, was: Was }),
    doc: "block a contact, a request or any UID",
  },
  "contacts.unblock": {
    params: z.strictObject({ uid: z.string().min(1).max(64) }),
    result: z.strictObject({ uid: UidOut, now: Was }),
    doc: "unblock a UID",
  },
  "contacts.verify": {
    params: z.strictObject({
      contact: ContactRef,
      code: z.string().max(200).describe("the safety code (v3) or fingerprint (v2) they read to you"),
      force: z.boolean().optional(),
    }),
    result: Contact,
    doc: "mark a contact as verified once the code they read to you matches (refused when it does not)",
  },
  "contacts.safetyCode": {
    params: z.strictObject({ contact: ContactRef }),
    result: z.strictObject({ uid: UidOut, protocol: z.union([z.literal(2), z.literal(3)]), code: z.string() }),
    doc: "what to compare with the contact: the safety code (v3) or the fingerprint (v2)",
  },
  "contacts.nick": {
    params: z.strictObject({ contact: ContactRef, nick: z.string().min(1).max(64) }),
    result: Contact,
    doc: "set a contact's nickname",
  },
  "contacts.remove": {
    params: z.strictObject({ contact: ContactRef }),
    result: z.strictObject({ uid: UidOut }),
    doc: "burn the conversation on the relay, then remove the contact",
  },
  send: {
    params: z.strictObject({ contact: ContactRef, text: z.string().min(1).max(1_000_000) }),
    result: z.strictObject({ ts: z.number().int() }),
    doc: "send a text message",
  },
  sendFile: {
    params: z.strictObject({
      contact: ContactRef,
      path: z.string().min(1).max(4096).describe("an absolute path the daemon reads"),
    }),
    result: z.strictObject({ ts: z.number().int(), file: FileInfo }),
    doc: "send a file, encrypted; progress events while it uploads",
  },
  read: {
    params: z.strictObject({
      contact: ContactRef,
      limit: z.number().int().min(1).max(200).optional(),
      since: z.number().int().min(0).optional().describe("only messages at or after this Unix time"),
      before: z.number().int().min(0).optional().describe("paging: only messages before this Unix time"),
    }),
    result: z.strictObject({
      contact: Contact,
      messages: z.array(Message),
      more: z.boolean().describe("older messages exist (page with before = the first one's ts)"),
      skipped: z.number().int().describe("rows that could not be decrypted or were not from a member"),
    }),
    doc: "the conversation, oldest first (marks it read)",
  },
  "history.search": {
    params: z.strictObject({ text: z.string().min(1).max(1000), contact: ContactRef.optional() }),
    result: z.strictObject({ results: z.array(z.strictObject({ contact: Contact, message: Message })) }),
    doc: "search the local history of v3 conversations (ignoring case)",
  },
  "history.clear": {
    params: z.union([z.strictObject({ contact: ContactRef }), z.strictObject({ all: z.literal(true) })]),
    result: z.strictObject({ deleted: z.number().int() }),
    doc: "delete this device's history of one conversation, or of all",
  },
  getFile: {
    params: z.strictObject({
      contact: ContactRef,
      n: z.number().int().min(1),
      path: z.string().min(1).max(4096).describe("an absolute folder or file path the daemon writes"),
      force: z.boolean().optional(),
    }),
    result: z.strictObject({ path: z.string() }),
    doc: "download, decrypt and save file n of a conversation",
  },
  burn: {
    params: z.strictObject({ contact: ContactRef }),
    result: z.strictObject({ deleted: z.number().int() }),
    doc: "delete a conversation's messages and files from the relay",
  },
  subscribe: {
    params: z.strictObject({
      consumer: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "consumer: 1 to 64 of A-Z a-z 0-9 . _ -"),
      from: z
        .enum(["now", "oldest"])
        .optional()
        .describe("a consumer seen for the first time starts here (default now)"),
    }),
    result: z.strictObject({ consumer: z.string(), pending: z.number().int() }),
    doc: "receive events as `event` notifications: every one not yet acknowledged by this consumer, then new ones",
  },
  ack: {
    params: z.strictObject({ consumer: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/), id: z.number().int().min(1) }),
    result: Ok,
    doc: "this consumer has handled event id: it is never sent to it again",
  },
  listen: {
    params: z.strictObject({ fromNow: z.boolean().optional() }),
    result: Ok,
    doc: "phantom listen's stream: `listen` notifications from the delivery cursor on, each answered by listen.ack",
  },
  "listen.ack": {
    params: z.strictObject({ id: z.number().int().min(1) }),
    result: Ok,
    doc: "the listen line was printed: the cursor moves past it",
  },
  "chat.open": {
    params: z.strictObject({ contact: ContactRef }),
    result: Ok,
    doc: "a chat with this contact is open while this connection lasts (no notifications for it)",
  },
  "settings.get": {
    params: z.strictObject({ key: z.enum(SETTING_KEYS).optional() }),
    result: z.strictObject({
      settings: z.record(z.string(), z.union([z.string(), z.boolean(), z.number(), z.null()])),
    }),
    doc: "the settings",
  },
  "settings.set": {
    params: z.strictObject({ key: z.enum(SETTING_KEYS), value: z.string().max(2000) }),
    result: z.strictObject({
      settings: z.record(z.string(), z.union([z.string(), z.boolean(), z.number(), z.null()])),
    }),
    doc: "change one setting (the words of `phantom settings KEY VALUE`)",
  },
  stop: { params: Empty, result: Ok, doc: "stop the daemon (phantom panic does this first)" },
} as const satisfies Record<string, { params: z.ZodType; result: z.ZodType; doc: string }>;

export type Method = keyof typeof METHODS;
export type Params<M extends Method> = z.input<(typeof METHODS)[M]["params"]>;
export type Result<M extends Method> = z.infer<(typeof METHODS)[M]["result"]>;

const EventBase = { id: z.number().int().describe("ack(id) once handled"), at: z.number().int() };

/** The events of `subscribe`, sent as {"method":"event","params":…}. */
export const Event = z.discriminatedUnion("type", [
  z.strictObject({
    ...EventBase,
    type: z.literal("message"),
    contact: UidOut,
    nickname: z.string().nullable(),
    message: Message,
  }),
  z.strictObject({ ...EventBase, type: z.literal("contact"), contact: UidOut, nickname: z.string().nullable() }),
  z.strictObject({ ...EventBase, type: z.literal("request"), uid: UidOut, fingerprint: z.string() }),
  z.strictObject({ ...EventBase, type: z.literal("burned"), contact: UidOut }),
  z.strictObject({ ...EventBase, type: z.literal("delivery-error"), contact: UidOut.nullable(), error: z.string() }),
  z.strictObject({
    ...EventBase,
    type: z.literal("relay-status"),
    status: z.enum(["connected", "unreachable"]),
    error: z.string().nullable(),
  }),
]);
export type Event = z.infer<typeof Event>;
export type EventBody = Event extends infer E ? (E extends unknown ? Omit<E, "id" | "at"> : never) : never;

/** The other notifications the daemon sends on a connection. */
export const NOTIFICATIONS = {
  event: Event,
  listen: z.strictObject({
    id: z.number().int(),
    line: z.discriminatedUnion("kind", [
      z.strictObject({ kind: z.literal("message"), contact: Contact, message: Message }),
      z.strictObject({ kind: z.literal("contact"), contact: Contact }),
      z.strictObject({ kind: z.literal("request"), uid: UidOut, fingerprint: z.string(), firstSeen: z.number().int() }),
      z.strictObject({ kind: z.literal("burned"), contact: Contact }),
      z.strictObject({ kind: z.literal("ready"), conversations: z.number().int() }),
      z.strictObject({
        kind: z.literal("live-status"),
        contact: Contact,
        state: z.string(),
        error: z.string(),
        inMs: z.number(),
      }),
    ]),
  }),
  progress: z.strictObject({ call: z.union([z.string(), z.number()]), done: z.number(), total: z.number() }),
  warning: z.strictObject({ call: z.union([z.string(), z.number()]).nullable(), message: z.string() }),
} as const;

/**
 * JSON-RPC 2.0 error codes: the spec's, and ours in its server range. `data.code` carries
 * Phantom's own error code (the --json "error" of the commands), `message` its one line.
 */
export const RPC = {
  parse: -32700,
  invalidRequest: -32600,
  noMethod: -32601,
  invalidParams: -32602,
  internal: -32603,
  /** A Phantom error (bad contact, relay refused…): data.code says which. */
  phantom: -32000,
  unauthorized: -32001,
  busy: -32002,
} as const;

/** The JSON Schema of the whole API: `phantom daemon --schema`. */
export function apiSchema(): Record<string, unknown> {
  const js = (t: z.ZodType) => z.toJSONSchema(t, { io: "input", unrepresentable: "any" });
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "phantom daemon JSON-RPC 2.0 API",
    methods: Object.fromEntries(
      Object.entries(METHODS).map(([name, m]) => [
        name,
        {
          description: m.doc,
          params: js(m.params),
          result: z.toJSONSchema(m.result, { io: "output", unrepresentable: "any" }),
        },
      ]),
    ),
    notifications: Object.fromEntries(Object.entries(NOTIFICATIONS).map(([n, t]) => [n, js(t)])),
    errors: RPC,
  };
}
