// The daemon's API: the JSON Schema of `phantom daemon --schema` holds every method with its
// params and result, every object is closed; a few methods' params at and past their limits;
// results and events refuse members they do not name; and no field is named like key material.
import { expect, test } from "bun:test";
import { apiSchema, Contact, Event, Message, METHODS, NOTIFICATIONS, RPC, SETTING_KEYS } from "./api.ts";

type Json = Record<string, unknown>;
const schema = apiSchema();
const methods = schema.methods as Record<string, { description: string; params: Json; result: Json }>;

const ok = (m: keyof typeof METHODS, params: unknown) => METHODS[m].params.safeParse(params).success;

/** Every (path, property name) under `v`, JSON Schema `properties` only. */
function propertyNames(v: unknown, path = ""): { path: string; name: string; schema: Json }[] {
  const out: { path: string; name: string; schema: Json }[] = [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...propertyNames(x, `${path}[${i}]`)));
  else if (v !== null && typeof v === "object") {
    const o = v as Json;
    if (o.properties && typeof o.properties === "object") {
      for (const [name, s] of Object.entries(o.properties as Json)) out.push({ path, name, schema: s as Json });
    }
    for (const [k, x] of Object.entries(o)) out.push(...propertyNames(x, `${path}/${k}`));
  }
  return out;
}

/** Every schema node under `v` that lists properties. */
function objectNodes(v: unknown, path = ""): { path: string; node: Json }[] {
  const out: { path: string; node: Json }[] = [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...objectNodes(x, `${path}[${i}]`)));
  else if (v !== null && typeof v === "object") {
    const o = v as Json;
    if (o.properties !== undefined) out.push({ path, node: o });
    for (const [k, x] of Object.entries(o)) out.push(...objectNodes(x, `${path}/${k}`));
  }
  return out;
}

test("the schema: JSON Schema 2020-12, every method of METHODS with its description, params and result; the error codes", () => {
  expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
  expect(typeof schema.title).toBe("string");
  expect(Object.keys(methods).sort()).toEqual(Object.keys(METHODS).sort());
  for (const m of ["status", "contacts.list", "send", "read", "subscribe", "ack", "listen", "settings.set", "stop"]) {
    expect(Object.keys(methods)).toContain(m);
  }
  for (const [name, m] of Object.entries(methods)) {
    expect(m.description).toBe(METHODS[name as keyof typeof METHODS].doc);
    expect(m.description.length).toBeGreaterThan(0);
    for (const s of [m.params, m.result]) {
      expect(s.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
      expect(s.type === "object" || Array.isArray(s.anyOf) || Array.isArray(s.oneOf)).toBe(true);
    }
  }
  expect(Object.keys(schema.notifications as Json).sort()).toEqual(Object.keys(NOTIFICATIONS).sort());
  expect(schema.errors).toEqual(RPC);
  expect(RPC).toEqual({
    parse: -32700,
    invalidRequest: -32600,
    noMethod: -32601,
    invalidParams: -32602,
    internal: -32603,
    phantom: -32000,
    unauthorized: -32001,
    busy: -32002,
  });
  // Plain JSON: it survives a round trip unchanged.
  expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
});

test("the schema's shapes follow the zod ones: required members, limits, the consumer pattern", () => {
  const sub = methods.subscribe!.params as { properties: Record<string, Json>; required: string[] };
  expect(sub.required).toEqual(["consumer"]);
  expect(sub.properties.consumer!.pattern).toBe("^[A-Za-z0-9._-]{1,64}$");
  expect(sub.properties.from!.enum).toEqual(["now", "oldest"]);
  const read = methods.read!.params as { properties: Record<string, Json>; required: string[] };
  expect(read.required).toEqual(["contact"]);
  expect(read.properties.limit).toMatchObject({ type: "integer", minimum: 1, maximum: 200 });
  expect(read.properties.contact).toMatchObject({ type: "string", minLength: 1, maxLength: 200 });
  const send = methods.send!.params as { properties: Record<string, Json> };
  expect(send.properties.text).toMatchObject({ minLength: 1, maxLength: 1_000_000 });
  expect((methods["history.clear"]!.params.anyOf as unknown[]).length).toBe(2);
  expect((methods.status!.result as { required: string[] }).required).toContain("uid");
  const settingsKey = (methods["settings.set"]!.params as { properties: Record<string, Json> }).properties.key!;
  expect(settingsKey.enum).toEqual([...SETTING_KEYS]);
});

test("every object in the schema is closed (additionalProperties false): a client learns of no member it may not send", () => {
  const nodes = objectNodes({ methods: schema.methods, notifications: schema.notifications });
  expect(nodes.length).toBeGreaterThan(50);
  for (const { path, node } of nodes) {
    if (node.additionalProperties !== false) throw new Error(`${path} is open`);
  }
});

test("no member is named like key material: the only '…key' is a setting's name, from SETTING_KEYS", () => {
  const KEY_MATERIAL = /priv|secret|seed|password|passphrase|mnemonic|token|vault|ratchet|nonce|key$/i;
  const all = propertyNames({ methods: schema.methods, notifications: schema.notifications });
  expect(all.length).toBeGreaterThan(100);
  const flagged = all.filter((p) => KEY_MATERIAL.test(p.name));
  // settings.get and settings.set name a setting by "key"; nothing else matches.
  expect([...new Set(flagged.map((p) => p.name))]).toEqual(["key"]);
  expect(flagged.map((p) => p.path).sort()).toEqual(["/methods/settings.get/params", "/methods/settings.set/params"]);
  for (const p of flagged) expect(p.schema.enum).toEqual([...SETTING_KEYS]);
  // And no setting the API reads or writes is a secret.
  for (const k of SETTING_KEYS) expect(k).not.toMatch(/priv|secret|seed|password|passphrase|token|key/i);
  // The names that look close are public values: digests of public keys, a code read aloud, a flag.
  const names = new Set(all.map((p) => p.name));
  for (const n of ["fingerprint", "code", "keyChanged"]) expect(names.has(n)).toBe(true);
});

test("subscribe: a consumer is 1 to 64 of A-Z a-z 0-9 . _ -; from is now or oldest; nothing else", () => {
  for (const c of ["a", "A.b_c-9", "x".repeat(64), "...", "-"]) expect(ok("subscribe", { consumer: c })).toBe(true);
  for (const c of ["", "x".repeat(65), "a b", "a/b", "ä", "a\n", "\na", "a:b", "a*", 5]) {
    expect(ok("subscribe", { consumer: c })).toBe(false);
  }
  expect(ok("subscribe", { consumer: "c", from: "now" })).toBe(true);
  expect(ok("subscribe", { consumer: "c", from: "oldest" })).toBe(true);
  expect(ok("subscribe", { consumer: "c", from: "later" })).toBe(false);
  expect(ok("subscribe", {})).toBe(false);
  expect(ok("subscribe", { consumer: "c", extra: 1 })).toBe(false);
  const r = METHODS.subscribe.params.safeParse({ consumer: "a b" });
  expect(r.success ? "" : r.error.issues[0]!.message).toBe("consumer: 1 to 64 of A-Z a-z 0-9 . _ -");
});

test("ack: an id is an integer ≥ 1, with a consumer of the same pattern", () => {
  expect(ok("ack", { consumer: "c", id: 1 })).toBe(true);
  expect(ok("ack", { consumer: "c", id: 2 ** 40 })).toBe(true);
  for (const id of [0, -1, 1.5, "1", null, Number.NaN]) expect(ok("ack", { consumer: "c", id })).toBe(false);
  expect(ok("ack", { consumer: "a b", id: 1 })).toBe(false);
  expect(ok("ack", { consumer: "x".repeat(65), id: 1 })).toBe(false);
  expect(ok("ack", { id: 1 })).toBe(false);
});

test("read: limit 1 to 200, since and before ≥ 0, a contact of 1 to 200 characters", () => {
  expect(ok("read", { contact: "bob" })).toBe(true);
  for (const limit of [1, 200]) expect(ok("read", { contact: "bob", limit })).toBe(true);
  for (const limit of [0, 201, 1.5, -1, "10"]) expect(ok("read", { contact: "bob", limit })).toBe(false);
  expect(ok("read", { contact: "bob", since: 0, before: 0 })).toBe(true);
  expect(ok("read", { contact: "bob", since: -1 })).toBe(false);
  expect(ok("read", { contact: "bob", before: -1 })).toBe(false);
  expect(ok("read", { contact: "x".repeat(200) })).toBe(true);
  expect(ok("read", { contact: "x".repeat(201) })).toBe(false);
  expect(ok("read", { contact: "" })).toBe(false);
  expect(ok("read", {})).toBe(false);
});

test("other limits: send's text, history.clear's two forms, settings keys, getFile's number, closed params", () => {
  expect(ok("send", { contact: "bob", text: "x" })).toBe(true);
  expect(ok("send", { contact: "bob", text: "x".repeat(1_000_000) })).toBe(true);
  expect(ok("send", { contact: "bob", text: "x".repeat(1_000_001) })).toBe(false);
  expect(ok("send", { contact: "bob", text: "" })).toBe(false);

  expect(ok("history.clear", { contact: "bob" })).toBe(true);
  expect(ok("history.clear", { all: true })).toBe(true);
  expect(ok("history.clear", { all: false })).toBe(false);
  expect(ok("history.clear", {})).toBe(false);
  expect(ok("history.clear", { contact: "bob", all: true })).toBe(false);

  expect(ok("settings.set", { key: "notify", value: "on" })).toBe(true);
  expect(ok("settings.set", { key: "password", value: "x" })).toBe(false);
  expect(ok("settings.set", { key: "notify", value: "x".repeat(2001) })).toBe(false);
  expect(ok("settings.get", {})).toBe(true);
  expect(ok("settings.get", { key: "theme" })).toBe(true);
  expect(ok("settings.get", { key: "nope" })).toBe(false);

  expect(ok("getFile", { contact: "bob", n: 1, path: "/tmp/x" })).toBe(true);
  expect(ok("getFile", { contact: "bob", n: 0, path: "/tmp/x" })).toBe(false);
  expect(ok("getFile", { contact: "bob", n: 1, path: "" })).toBe(false);

  expect(ok("contacts.verify", { contact: "bob", code: "1".repeat(200) })).toBe(true);
  expect(ok("contacts.verify", { contact: "bob", code: "1".repeat(201) })).toBe(false);

  expect(ok("status", {})).toBe(true);
  expect(ok("status", { verbose: true })).toBe(false);
  expect(ok("stop", { now: true })).toBe(false);
  expect(ok("listen.ack", { id: 0 })).toBe(false);
});

const MESSAGE = { id: "m1", ts: 1, from: "A".repeat(28), mine: false, body: "hi" };
const CONTACT = {
  uid: "A".repeat(28),
  nickname: null,
  fingerprint: "ab:cd",
  verified: false,
  keyChanged: false,
  isNew: true,
  protocol: 3,
  protocolLine: "v3",
};

test("results and events refuse members they do not name (nothing extra, say a key, slips out)", () => {
  expect(Message.safeParse(MESSAGE).success).toBe(true);
  expect(Message.safeParse({ ...MESSAGE, messageKey: "00" }).success).toBe(false);
  expect(Contact.safeParse(CONTACT).success).toBe(true);
  expect(Contact.safeParse({ ...CONTACT, identityKey: "00" }).success).toBe(false);
  const event = { id: 1, at: 2, type: "message", contact: "A".repeat(28), nickname: null, message: MESSAGE };
  expect(Event.safeParse(event).success).toBe(true);
  expect(Event.safeParse({ ...event, sessionKey: "00" }).success).toBe(false);
  expect(Event.safeParse({ ...event, type: "unknown" }).success).toBe(false);
  expect(Event.safeParse({ id: 1, at: 2, type: "burned", contact: "A".repeat(28) }).success).toBe(true);
  expect(METHODS.send.result.safeParse({ ts: 1 }).success).toBe(true);
  expect(METHODS.send.result.safeParse({ ts: 1, wire: "x" }).success).toBe(false);
});

test("the event notification's schema lists each event type", () => {
  const ev = (schema.notifications as Json).event as Json;
  const variants = (ev.oneOf ?? ev.anyOf) as { properties: { type: { const: string } } }[];
  expect(variants.map((v) => v.properties.type.const).sort()).toEqual(
    ["burned", "contact", "delivery-error", "message", "relay-status", "request"].sort(),
  );
});
