// What a build fixes in the binary (build.sh passes these with `bun build --define`):
//   __PHANTOM_VERSION__             the version (PHANTOM_VERSION, else package.json)
//   __PHANTOM_RELEASE_PUB__         the minisign public key releases are signed with
//                                   (PHANTOM_RELEASE_PUB_FILE, else release/phantom-release.pub)
//   __PHANTOM_DEFAULT_UPDATE_URL__  where `phantom update` looks by default (PHANTOM_DEFAULT_UPDATE_URL
//                                   given to `build.sh release`; empty in source builds)
// Run from source (bun test), the same values come from package.json and the committed key.
import pkg from "../package.json" with { type: "json" };
import committedReleasePub from "../release/phantom-release.pub" with { type: "text" };

declare const __PHANTOM_VERSION__: string | undefined;
declare const __PHANTOM_RELEASE_PUB__: string | undefined;
declare const __PHANTOM_DEFAULT_UPDATE_URL__: string | undefined;

export const VERSION: string = typeof __PHANTOM_VERSION__ === "string" ? __PHANTOM_VERSION__ : pkg.version;

/** The text of the minisign public key (.pub file) every release must be signed with. */
export const RELEASE_PUBLIC_KEY: string =
  typeof __PHANTOM_RELEASE_PUB__ === "string" ? __PHANTOM_RELEASE_PUB__ : committedReleasePub;

/** The update URL compiled in by the maintainer ("" when none: `update` then needs one). */
export const DEFAULT_UPDATE_URL: string =
  typeof __PHANTOM_DEFAULT_UPDATE_URL__ === "string" ? __PHANTOM_DEFAULT_UPDATE_URL__ : "";
