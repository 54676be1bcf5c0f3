// The one place the version comes from: package.json, inlined at build time.
import pkg from "../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
