// Where the updater keeps what it learned: the pinned key per update server
// (update-pins.json) and the newest version seen with the time of the last check
// (update-state.json). Both programs use fileStore: phantom in PHANTOM_HOME under its
// state lock, the relay in its data folder. Files 0600, written atomically.

import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { UpdateError } from "./pinned-get.ts";

export const UPDATE_PINS_FILE = "update-pins.json";
export const UPDATE_STATE_FILE = "update-state.json";

export interface UpdateState {
  newestSeen?: string;
  lastCheck?: number;
}

export interface UpdateStore {
  pin(hostPort: string): string | null;
  setPin(hostPort: string, pin: string): void;
  /** Forget every pin (the next update asks again). */
  resetPins(): void;
  state(): UpdateState;
  setState(s: UpdateState): void;
}

const Pins = z.record(z.string().max(300), z.string().regex(/^[A-Za-z0-9+/]{43}=$/));
const State = z.object({
  newestSeen: z
    .string()
    .regex(/^\d+\.\d+\.\d+$/)
    .optional(),
  lastCheck: z.number().int().nonnegative().optional(),
});

type Lock = <T>(change: () => T) => T;

/** A store in `dir` (created 0700); `lock` wraps every read-modify-write. */
export function fileStore(dir: string, lock: Lock = (f) => f()): UpdateStore {
  const pinsPath = join(dir, UPDATE_PINS_FILE);
  const statePath = join(dir, UPDATE_STATE_FILE);
  const pins = () => read(pinsPath, Pins) ?? {};
  return {
    pin: (k) => pins()[k] ?? null,
    setPin: (k, p) => lock(() => write(dir, pinsPath, { ...pins(), [k]: p })),
    resetPins: () => lock(() => fs.rmSync(pinsPath, { force: true })),
    state: () => read(statePath, State) ?? {},
    setState: (s) => lock(() => write(dir, statePath, { ...(read(statePath, State) ?? {}), ...s })),
  };
}

function read<T extends z.ZodType>(path: string, schema: T): z.infer<T> | null {
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new UpdateError("state-io", `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? "error"}`);
  }
  try {
    return schema.parse(JSON.parse(text));
  } catch {
    throw new UpdateError("state-io", `${path} is damaged (delete it to start over)`);
  }
}

function write(dir: string, path: string, value: unknown): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.phantom-${randomBytes(8).toString("hex")}.tmp`);
  const fd = fs.openSync(tmp, "wx", 0o600);
  try {
    fs.writeSync(fd, `${JSON.stringify(value, null, 2)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path);
}
