// The PostgreSQL schema of the relay (relay/pg-store.ts), versioned like the SQLite one: each
// entry migrates from version i to i + 1, recorded in relay_schema. Same tables and meaning as
// relay/sqlite-store.ts MIGRATIONS, plus what several instances sharing one database need:
// - relay_clock: one row that hands out seq and ts (PROTOCOL §7.6.1). It is updated inside the
//   inserting transaction, so its row lock orders writers until COMMIT: commit order is seq order
//   and a poller that read `seq > N` never later sees a row with seq ≤ N appear (a sequence's
//   nextval is not commit-ordered). ts never decreases as seq grows, whatever the instances' clocks.
// - room_usage: the bytes each room holds (issue 8 room quota), kept by every write in the same
//   transaction; its row lock makes the quota check and the write atomic across instances.
// - nonces keyed by (uid nonce): the replay cache itself (PROTOCOL §6), claimed with one INSERT.
export const PG_MIGRATIONS: readonly string[] = [
  `CREATE TABLE users (
     uid text PRIMARY KEY, enc_pub bytea NOT NULL, sign_pub bytea NOT NULL, registered_day bigint NOT NULL
   );
   CREATE TABLE rooms (room_id text PRIMARY KEY, member_a text NOT NULL, member_b text NOT NULL);
   CREATE TABLE inbox (
     to_uid text NOT NULL, from_uid text NOT NULL, pub_key text NOT NULL, room_id text NOT NULL, ts bigint NOT NULL,
     PRIMARY KEY (to_uid, from_uid)
   );
   CREATE INDEX inbox_ts ON inbox (ts);
   CREATE TABLE relay_clock (id int PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL, ts bigint NOT NULL);
   INSERT INTO relay_clock (id, seq, ts) VALUES (1, 0, 0);
   CREATE TABLE messages (seq bigint PRIMARY KEY, room_id text NOT NULL, ts bigint NOT NULL, ciphertext text NOT NULL);
   CREATE INDEX messages_room_seq ON messages (room_id, seq);
   CREATE INDEX messages_room_ts ON messages (room_id, ts, seq);
   CREATE INDEX messages_ts ON messages (ts);
   CREATE TABLE room_usage (room_id text PRIMARY KEY, bytes bigint NOT NULL);
   CREATE TABLE files (
     blob_id text PRIMARY KEY, room_id text NOT NULL, size bigint NOT NULL, created bigint NOT NULL,
     expires bigint NOT NULL
   );
   CREATE INDEX files_room ON files (room_id);
   CREATE INDEX files_expires ON files (expires);
   CREATE TABLE burns (n bigserial PRIMARY KEY, uid text NOT NULL, ts bigint NOT NULL);
   CREATE INDEX burns_uid_ts ON burns (uid, ts);
   CREATE INDEX burns_ts ON burns (ts);
   CREATE TABLE nonces (key text PRIMARY KEY, expires bigint NOT NULL);
   CREATE INDEX nonces_expires ON nonces (expires);
   CREATE TABLE prekeys (
     n bigserial, uid text NOT NULL, kind int NOT NULL, id bigint NOT NULL, pub bytea NOT NULL, sig bytea NOT NULL,
     PRIMARY KEY (uid, kind, id)
   );
   CREATE INDEX prekeys_order ON prekeys (uid, kind, n);
   CREATE TABLE prekey_ids (uid text NOT NULL, id bigint NOT NULL, PRIMARY KEY (uid, id));
   CREATE TABLE prekey_grants (
     signer text NOT NULL, target text NOT NULL, kind int NOT NULL, ts bigint NOT NULL,
     PRIMARY KEY (signer, target, kind)
   );
   CREATE INDEX prekey_grants_ts ON prekey_grants (ts);
   CREATE TABLE bundle_requests (n bigserial PRIMARY KEY, signer text NOT NULL, ts bigint NOT NULL);
   CREATE INDEX bundle_requests_signer_ts ON bundle_requests (signer, ts);
   CREATE INDEX bundle_requests_ts ON bundle_requests (ts);`,
];
export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;

/** Every table, in the order `phantom-relay migrate` fills them (relay/migrate.ts). */
export const PG_TABLES = [
  "users",
  "rooms",
  "inbox",
  "messages",
  "room_usage",
  "files",
  "burns",
  "nonces",
  "prekeys",
  "prekey_ids",
  "prekey_grants",
  "bundle_requests",
] as const;
