// The release manifest (issue 11, "the release format"): latest.json, signed with the
// release key (latest.json.minisig, trusted comment `version:<v> file:latest.json timestamp:<t>`).
// Verified before it is parsed; its version must be newer than the running one and not older
// than the newest ever seen (no downgrade, no replay of an old signed manifest).

import { z } from "zod";
import { parsePublicKey, verify } from "../minisign.ts";
import { UpdateError } from "./pinned-get.ts";

/** Largest latest.json / .minisig accepted. */
export const MAX_MANIFEST_BYTES = 256 * 1024;
/** Largest archive a manifest may announce. */
export const MAX_ARCHIVE_BYTES = 512 * 1024 * 1024;

const Version = z.string().regex(/^\d{1,6}\.\d{1,6}\.\d{1,6}$/, "expected a version x.y.z");
const FileEntry = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "expected a plain file name"),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().positive().max(MAX_ARCHIVE_BYTES),
});
// Not strict at the top: a later release may add fields that an older updater must still accept.
export const Manifest = z.object({
  version: Version,
  published_at: z.string().max(64),
  notes: z.string().max(20_000).default(""),
  files: z.record(z.string().max(64), FileEntry),
});
export type Manifest = z.infer<typeof Manifest>;
export type ManifestFile = z.infer<typeof FileEntry>;

/** -1, 0, 1 for x.y.z versions. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) < (pb[i] ?? 0) ? -1 : 1;
  return 0;
}

/** Verify the signature, then parse; throws UpdateError / MinisignError with one line. */
export function verifyManifest(pubText: string, body: Uint8Array, sigText: string): Manifest {
  const trusted = verify(parsePublicKey(pubText), sigText, body);
  const m = /^version:(\S+) file:latest\.json timestamp:\d+$/.exec(trusted);
  if (!m) throw new UpdateError("bad-manifest", `latest.json.minisig has an unexpected trusted comment`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    throw new UpdateError("bad-manifest", "latest.json is not JSON");
  }
  const r = Manifest.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new UpdateError("bad-manifest", `latest.json: ${i.path.join(".") || "top"}: ${i.message}`);
  }
  if (r.data.version !== m[1])
    throw new UpdateError(
      "bad-manifest",
      `latest.json says version ${r.data.version} but its signature says ${m[1]}: refusing it`,
    );
  return r.data;
}

/** This machine's platform key: linux|darwin|windows - x64|arm64. */
export function platformKey(platform: string = process.platform, arch: string = process.arch): string {
  const os = platform === "win32" ? "windows" : platform;
  if (os !== "linux" && os !== "darwin" && os !== "windows")
    throw new UpdateError("no-platform", `no releases are made for ${platform}`);
  if (arch !== "x64" && arch !== "arm64") throw new UpdateError("no-platform", `no releases are made for ${arch}`);
  return `${os}-${arch}`;
}
