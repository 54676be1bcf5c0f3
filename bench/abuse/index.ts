// Every attack of `./build.sh bench abuse`, in the order they run. One line each.
import type { Attack } from "./attack.ts";
import { diskFlood } from "./disk-flood.ts";
import { fdExhaust } from "./fd-exhaust.ts";
import { fetchUnread } from "./fetch-unread.ts";
import { fetchUnreadNarrow } from "./fetch-unread-narrow.ts";
import { wsBackpressure, wsBackpressureUncapped } from "./ws-backpressure.ts";

export const attacks: Attack[] = [
  wsBackpressure,
  wsBackpressureUncapped,
  fetchUnread,
  fetchUnreadNarrow,
  diskFlood,
  fdExhaust,
];
