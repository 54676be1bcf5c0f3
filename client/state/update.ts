// The updater's files in $PHANTOM_HOME (update-pins.json, update-state.json, named in
// home.ts STATE_FILES), every change under the home's state lock.
import { fileStore, type UpdateStore } from "../../lib/update/store.ts";
import { ensureHome } from "./home.ts";
import { withStateLock } from "./lock.ts";

export function updateStore(home: string): UpdateStore {
  return fileStore(home, (change) => {
    ensureHome(home);
    return withStateLock(home, change);
  });
}
