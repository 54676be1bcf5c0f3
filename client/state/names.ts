// The names of the files in $PHANTOM_HOME that a command looks at before it loads anything else
// (home.ts lists them with the others): `phantom daemon`'s, and the burn list. No imports: a
// command that talks to a running daemon reads these and loads nothing of the state's code.

/** `phantom daemon`'s UNIX socket (0600): its JSON-RPC API (client/daemon/). */
export const DAEMON_SOCKET_FILE = "daemon.sock";
/** The running daemon's process id, written with O_EXCL: one daemon per home. */
export const DAEMON_PID_FILE = "daemon.pid";
/** The bearer token of `phantom daemon --http` (0600, random; --new-token replaces it). */
export const DAEMON_TOKEN_FILE = "daemon.token";
/** The daemon's files: of this machine's running daemon, never copied elsewhere (phantom usb). */
export const DAEMON_FILES = [DAEMON_SOCKET_FILE, DAEMON_PID_FILE, DAEMON_TOKEN_FILE];
/**
 * The sealed list of rooms a panic could not burn yet (state/burn-list.ts). The one file a panic
 * leaves behind, until `phantom panic --finish` has burned them all.
 */
export const BURN_LIST_FILE = "burn-list.json";
