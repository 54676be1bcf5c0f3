// The relay's route table (PROTOCOL §7). Literal paths come before parametric ones.
import type { Route } from "../router.ts";
import { burn } from "./burn.ts";
import { download, upload } from "./files.ts";
import { kePop, kePush } from "./ke.ts";
import { wsUpgrade } from "./live.ts";
import { fetchMessages, send } from "./messages.ts";
import { fetchBundle, prekeyStatus, publishPrekeys } from "./prekeys.ts";
import { health, pubkey, register } from "./users.ts";

export const routes: Route[] = [
  { template: "/health", methods: { GET: health } }, // §7.1
  { template: "/register", methods: { POST: register } }, // §7.2
  { template: "/pubkey/:uid", methods: { GET: pubkey } }, // §7.3
  { template: "/ke/push", methods: { POST: kePush } }, // §7.4
  { template: "/ke/pop/:uid", methods: { GET: kePop } }, // §7.5
  { template: "/send", methods: { POST: send } }, // §7.6
  { template: "/fetch", methods: { POST: fetchMessages } }, // §7.6
  { template: "/burn", methods: { POST: burn } }, // §7.7
  { template: "/file/upload", methods: { POST: upload } }, // §7.8
  { template: "/file/:id", methods: { GET: download } }, // §7.8
  { template: "/ws/:room_id", methods: { GET: wsUpgrade } }, // §7.9
  { template: "/v3/prekeys", methods: { POST: publishPrekeys, GET: prekeyStatus } }, // PROTOCOL-v3 §V3.1, §V3.2
  { template: "/v3/bundle", methods: { POST: fetchBundle } }, // PROTOCOL-v3 §V3.3
];
