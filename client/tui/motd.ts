// Message of the day: one line from a built-in list or from the user's own lines.
// Written by us, chosen locally: never fetched from the network.

export const MOTD_KINDS = ["off", "fun", "privacy", "hacker", "ops", "custom"] as const;
export type MotdKind = (typeof MOTD_KINDS)[number];

export const MOTD_LISTS: Record<Exclude<MotdKind, "off" | "custom">, string[]> = {
  fun: [
    "Boo. Your messages are the only thing that should be seen here.",
    "Ghosts do not leave read receipts.",
    "Whisper mode: on. Relay: bored. Exactly as planned.",
    "The relay carries your letters but cannot open the envelopes.",
    "Today's forecast: 100% chance of ciphertext.",
    "A phantom never forgets its password. Please be a phantom.",
    "Sent from a terminal, sealed with ChaCha20.",
    "Keep calm and compare fingerprints.",
  ],
  privacy: [
    "Verify a contact's fingerprint once, in person or by voice.",
    "The relay sees who talks in which room and when, but not what is said.",
    "Without Tor, the relay can see your IP address.",
    "Back up identity.json somewhere safe: lose it and your UID is gone.",
    "Messages vanish from the relay after 7 days; files after 24 hours.",
    "A burn deletes the conversation on the relay, not on your friend's screen.",
    "Your password never leaves this machine; it only unlocks identity.json.",
    "Metadata is data too: share your UID only with people you want to hear from.",
  ],
  hacker: [
    "X25519 + HKDF + ChaCha20-Poly1305. No homemade crypto was harmed.",
    "Every request is signed with Ed25519; replays bounce off the nonce cache.",
    "scrypt N=2^17 stands between a thief and your identity.",
    "Room ids are derived, not assigned: both sides compute the same 22 chars.",
    "The UID commits to your key: SHA3-256, truncated, base64url.",
    "Read PROTOCOL.md, then read the code. Trust, but verify.",
    "Fingerprint = SHA-256 of your public key, in 13 groups of 4.",
    "Tip: `phantom listen --json` pipes straight into your bot.",
  ],
  ops: [
    "Check the relay with `phantom tor` and the health line on the menu.",
    "Scripts: PHANTOM_PASSWORD_FILE beats typing passwords into cron.",
    "PHANTOM_HOME moves your whole identity; keep it at 0700.",
    "Relay down? Your identity is local; nothing is lost while it restarts.",
    "`phantom panic --yes` burns every room and wipes this machine's identity.",
    "Behind Tor the chat polls every 3 s instead of holding a socket open.",
    "Files are encrypted before upload; the relay stores opaque blobs.",
    "Retention: 7 days of messages, 24 hours of files and key exchanges.",
  ],
};

/** Pick today's line (stable for a day, different each day), or null when off/empty. */
export function pickMotd(kind: MotdKind, custom: string[], now: Date = new Date()): string | null {
  if (kind === "off") return null;
  const list = kind === "custom" ? custom.map((l) => l.trim()).filter((l) => l !== "") : MOTD_LISTS[kind];
  if (list.length === 0) return null;
  const day = Math.floor(now.getTime() / 86_400_000);
  return list[day % list.length] ?? null;
}
