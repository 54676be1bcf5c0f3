// Numbers in words a person reads: sizes ("1.5 MB", never a raw byte count) and counts ("70,000").
// Shared by the commands and the interactive client.

/** "512 B", "1.5 KB", "12 MB" (powers of 1024). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** "70,000": digits grouped by three, the same on every locale. */
export function formatCount(n: number): string {
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

const ERRNO_WORDS: Record<string, string> = {
  ENOENT: "no such file or folder",
  EACCES: "permission denied",
  EPERM: "not permitted",
  EISDIR: "it is a folder",
  ENOTDIR: "a part of the path is not a folder",
  EEXIST: "it already exists",
  ENOSPC: "no space left on the disk",
  EDQUOT: "disk quota exceeded",
  EROFS: "the file system is read-only",
  EMFILE: "too many open files",
  ENFILE: "too many open files",
  ELOOP: "too many symbolic links",
  ENAMETOOLONG: "the name is too long",
  EBUSY: "it is busy",
  EIO: "input/output error",
  EFBIG: "the file is too large",
  EXDEV: "it is on another file system",
};

/** A system error code in words: "no such file or folder", never a bare ENOENT. */
export function describeErrno(code: string | undefined): string {
  if (code === undefined) return "input/output error";
  return ERRNO_WORDS[code] ?? `system error ${code}`;
}
