// The relay's file descriptors: the soft limit raised to the hard one,
// a cheap count of the descriptors in use, and (Linux) the accepted TCP connections that
// have sent nothing and been answered nothing for a while, which can be shut down.
// Bun has no setrlimit and no handle on a connection before its first request, so this
// calls libc through bun:ffi. Everything here fails soft: null / 0 / [] when unavailable.
import { dlopen, FFIType } from "bun:ffi";
import { closeSync, openSync, readdirSync } from "node:fs";

const LINUX = process.platform === "linux";
const DARWIN = process.platform === "darwin";
const RLIMIT_NOFILE = DARWIN ? 8 : 7;
/** macOS refuses a soft limit above OPEN_MAX when the hard limit is "unlimited". */
const DARWIN_OPEN_MAX = 10_240;
const FD_DIR = LINUX ? "/proc/self/fd" : "/dev/fd";

// Linux <netinet/tcp.h>: getsockopt(fd, IPPROTO_TCP, TCP_INFO) → struct tcp_info.
const IPPROTO_TCP = 6;
const TCP_INFO = 11;
const TCP_ESTABLISHED = 1;
const TCP_INFO_SIZE = 232;
const OFF_LAST_DATA_RECV = 52; // u32, ms since the peer last sent data (or since the connection opened)
const OFF_BYTES_ACKED = 120; // u64, bytes we sent that the peer acknowledged (Linux ≥ 4.1)
const OFF_BYTES_RECEIVED = 128; // u64, bytes the peer sent us (Linux ≥ 4.1)
const SHUT_RDWR = 2;

const LIBC_NAMES = DARWIN
  ? ["libc.dylib", "/usr/lib/libSystem.B.dylib"]
  : ["libc.so.6", "libc.so", "libc.musl-x86_64.so.1"];

function openLibc() {
  for (const name of LIBC_NAMES) {
    try {
      return dlopen(name, {
        getrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
        setrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
        getsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
        shutdown: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      }).symbols;
    } catch {
      // try the next name
    }
  }
  return null;
}

type Libc = NonNullable<ReturnType<typeof openLibc>>;
let libc: Libc | null | undefined;
function getLibc(): Libc | null {
  if (libc === undefined) libc = openLibc();
  return libc;
}

export interface FdLimit {
  soft: number;
  hard: number;
}

function readLimit(c: Libc): FdLimit | null {
  const buf = new BigUint64Array(2);
  if (c.getrlimit(RLIMIT_NOFILE, buf) !== 0) return null;
  const clamp = (v: bigint) => (v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v));
  return { soft: clamp(buf[0]!), hard: clamp(buf[1]!) };
}

/**
 * Raise the soft descriptor limit to the hard one (Bun 1.4 already does this at start on
 * Linux; this makes sure of it). Returns the limit in force, and a warning when it could not
 * be read or raised.
 */
export function raiseFdLimit(): { limit: FdLimit | null; warning: string | null } {
  const c = getLibc();
  if (!c) return { limit: null, warning: "cannot load libc: the descriptor limit is not checked" };
  const before = readLimit(c);
  if (!before) return { limit: null, warning: "getrlimit failed: the descriptor limit is not checked" };
  if (before.soft >= before.hard) return { limit: before, warning: null };
  const targets = [before.hard];
  if (DARWIN && before.hard > DARWIN_OPEN_MAX) targets.push(DARWIN_OPEN_MAX);
  for (const target of targets) {
    if (!Number.isFinite(target) || target <= before.soft) continue;
    const buf = new BigUint64Array([
      BigInt(target),
      BigInt.asUintN(64, BigInt(before.hard === Infinity ? -1 : before.hard)),
    ]);
    if (c.setrlimit(RLIMIT_NOFILE, buf) === 0) return { limit: readLimit(c) ?? before, warning: null };
  }
  return { limit: before, warning: `cannot raise the descriptor limit above ${before.soft}` };
}

// Reading FD_DIR needs a descriptor of its own, which is exactly what is missing when the limit
// is reached. One is held in reserve and given up just for the read (no other code of this
// thread can take it meanwhile: Bun accepts connections on this thread, between callbacks).
let reserve: number | null = null;
function takeReserve(): void {
  if (reserve === null) return;
  closeSync(reserve);
  reserve = null;
}
function keepReserve(): void {
  if (reserve !== null) return;
  try {
    reserve = openSync("/dev/null", "r");
  } catch {
    reserve = null; // none free now; the next read tries again
  }
}

/** The names in FD_DIR (read with the reserve descriptor), or null. */
function listFds(): string[] | null {
  takeReserve();
  try {
    return readdirSync(FD_DIR);
  } catch {
    return null;
  } finally {
    keepReserve();
  }
}

/** Descriptors open in this process (one readdir), or null where they cannot be counted. */
export function countOpenFds(): number | null {
  const names = listFds();
  // The directory being read was one of them; the reserve, given up for the read, is one too.
  return names === null ? null : names.length;
}

/** Connection shutdown is available (Linux, libc loaded). */
export function canShutDownStalled(): boolean {
  return LINUX && getLibc() !== null;
}

/**
 * Linux: shut down (both directions) every accepted TCP connection of this process on which
 * the peer has sent no byte and we have sent no byte for at least `minIdleMs`: a connection
 * opened and left silent. The descriptor stays open and owned by Bun, which sees the end of
 * stream and closes it itself, so no descriptor is closed behind its back. Connections with
 * a request under way, answered ones, keep-alive and WebSocket connections have bytes in one
 * direction or the other and are never touched. Returns how many were shut down.
 */
export function shutDownStalled(minIdleMs: number): number {
  const c = LINUX ? getLibc() : null;
  if (!c) return 0;
  const names = listFds();
  if (names === null) return 0;
  const info = new Uint8Array(TCP_INFO_SIZE);
  const view = new DataView(info.buffer);
  const len = new Uint32Array(1);
  let n = 0;
  for (const name of names) {
    const fd = Number(name);
    if (!Number.isInteger(fd) || fd < 3) continue;
    len[0] = TCP_INFO_SIZE;
    if (c.getsockopt(fd, IPPROTO_TCP, TCP_INFO, info, len) !== 0) continue; // not a TCP socket
    if (len[0]! < OFF_BYTES_RECEIVED + 8) continue; // kernel without the byte counters
    if (info[0] !== TCP_ESTABLISHED) continue; // the listener is LISTEN
    if (view.getBigUint64(OFF_BYTES_RECEIVED, true) !== 0n) continue;
    if (view.getBigUint64(OFF_BYTES_ACKED, true) !== 0n) continue;
    if (view.getUint32(OFF_LAST_DATA_RECV, true) < minIdleMs) continue;
    if (c.shutdown(fd, SHUT_RDWR) === 0) n++;
  }
  return n;
}
