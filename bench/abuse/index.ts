// Every attack of `./build.sh bench abuse`, in the order they run. One line each.
import type { Attack } from "./attack.ts";
import { fetchUnread } from "./fetch-unread.ts";
import { fetchUnreadNarrow } from "./fetch-unread-narrow.ts";

export const attacks: Attack[] = [fetchUnread, fetchUnreadNarrow];
