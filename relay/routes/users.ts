// PROTOCOL §7.1 GET /health, §7.2 POST /register, §7.3 GET /pubkey/{uid}: the unsigned routes.
import { checkX25519Public, ed25519VerifyKey, uidOf } from "../../lib/crypto.ts";
import { b64decode, b64encode, b64udecode } from "../../lib/encoding.ts";
import { BURN_LIMIT, MAX_JSON_BODY_BYTES, parseJsonBytes, RegisterBody, Uid } from "../../lib/wire.ts";
import { VERSION } from "../../lib/version.ts";
import type { Handler } from "../context.ts";
import { addressKey, clientAddress } from "../client-address.ts";
import { badRequest, conflict, notFound } from "../errors.ts";
import { ok, readBody, seconds } from "../http.ts";
import { spend } from "../quota.ts";

// PROTOCOL §7.1, with the optional fields of §7.10 (0 in `limits` means no limit).
export const health: Handler = (_req, { relay }) => {
  const c = relay.config;
  return ok({
    status: "ok",
    version: VERSION,
    auth_required: relay.authPub !== null,
    auth_pub: relay.authPub,
    max_file_size: c.maxFileSizeBytes,
    retention: {
      messages_days: c.messageRetentionS / 86_400,
      ke_hours: c.keRetentionS / 3600,
      files_hours: c.fileRetentionS / 3600,
    },
    limits: {
      sent_bytes_per_day: c.sentBytesPerDay,
      uploads_per_hour: c.uploadsPerHour,
      rooms_per_hour: c.roomsPerHour,
      room_bytes: c.roomBytes,
      registrations_per_hour: c.registrationsPerHour,
      burns_per_10_minutes: BURN_LIMIT,
    },
    // PROTOCOL-v3 §V1, §V11: v3 only with origins to bind signatures to.
    ...(relay.auth.origins.length > 0 ? { protocols: [2, 3], origins: relay.auth.origins } : { protocols: [2] }),
  });
};

// PROTOCOL §7.2: create-only; the UID must be the UID of the key.
export const register: Handler = async (req, { relay, now, server }) => {
  relay.disk.check(0); // PROTOCOL §7.10: 507 below the free-disk reserve
  // Registrations are never purged (§7.2 is create-only), so each client address gets a rate;
  // behind Tor or a proxy without X-Forwarded-For there is no address (relay/client-address.ts).
  const address = clientAddress(
    server.requestIP(req)?.address ?? null,
    req.headers.get("x-forwarded-for"),
    relay.proxies,
  );
  if (address !== null) {
    await spend(relay.quotas.registrations, addressKey(address), 1, "registrations per hour");
  }
  const body = parseJsonBytes(RegisterBody, await readBody(req, MAX_JSON_BODY_BYTES), "register");
  const encPub = b64decode(body.pub_key);
  const signPub = b64udecode(body.sign_pub);
  if (uidOf(encPub) !== body.uid) throw badRequest("uid does not match pub_key");
  try {
    checkX25519Public(encPub);
  } catch {
    throw badRequest("pub_key is not a usable X25519 public key");
  }
  try {
    ed25519VerifyKey(signPub);
  } catch {
    throw badRequest("sign_pub is not an Ed25519 public key");
  }
  const created = await relay.writes.run((tx) => tx.addUser({ uid: body.uid, encPub, signPub }, seconds(now)));
  if (!created) throw conflict("uid already registered");
  return ok({ ok: true });
};

// PROTOCOL §7.3
export const pubkey: Handler = async (_req, { relay, params }) => {
  const uid = params[0]!;
  if (!Uid.safeParse(uid).success) throw notFound("unknown uid");
  const user = await relay.auth.user(uid);
  if (!user) throw notFound("unknown uid");
  return ok({ uid, pub_key: b64encode(user.record.encPub) });
};
