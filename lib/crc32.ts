// CRC-32 (ISO-HDLC, reflected polynomial 0xEDB88320), as zip and gzip use it: the zip writer of
// the release (release/zip.ts) and the zip reader of `phantom usb` (lib/update/unzip.ts).

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 continued over `data` from `crc` (0 to start): crc32(b, crc32(a)) = crc32(a ‖ b). */
export function crc32(data: Uint8Array, crc = 0): number {
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
