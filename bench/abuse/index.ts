// Every attack of `./build.sh bench abuse`, in the order they run. One line each.
import type { Attack } from "./attack.ts";
import { diskFlood } from "./disk-flood.ts";

export const attacks: Attack[] = [
  diskFlood, // issue 8 item 2: disk, with and without a key
];
