// Every attack of `./build.sh bench abuse`, in the order they run. One line each.
import type { Attack } from "./attack.ts";
import { fdExhaust } from "./fd-exhaust.ts";

export const attacks: Attack[] = [
  fdExhaust, // issue 8 item 2: descriptors, no authentication
];
