import { open } from 'node:fs/promises';
import * as zlib from 'node:zlib';

// The write-ahead log's files (wal.ts). Segment files `<16-digit sequence>.wal`, each a run of
// entries; an entry is one append (the accepted records of one call): u32 length and u32 CRC-32
// of the body, then the body: f64 arrival time (epoch ms), u32 record count, and per record u32
// length and bytes (little-endian). A torn or corrupt tail (a crash in the middle of a write)
// ends the segment: that append was never acknowledged.

const HEADER_BYTES = 8;
export const SEGMENT_FILE = /^\d{16}\.wal$/;

export function segmentFileName(id: number): string {
  return `${String(id).padStart(16, '0')}.wal`;
}

/** One entry: the records of one append, with their arrival time. */
export function encodeEntry(records: readonly Buffer[], arrivalMs: number): Buffer {
  let bodyBytes = 12;
  for (const r of records) bodyBytes += 4 + r.length;
  const entry = Buffer.allocUnsafe(HEADER_BYTES + bodyBytes);
  entry.writeDoubleLE(arrivalMs, HEADER_BYTES);
  entry.writeUInt32LE(records.length, HEADER_BYTES + 8);
  let at = HEADER_BYTES + 12;
  for (const r of records) {
    entry.writeUInt32LE(r.length, at);
    r.copy(entry, at + 4);
    at += 4 + r.length;
  }
  entry.writeUInt32LE(bodyBytes, 0);
  entry.writeUInt32LE(crc32(entry.subarray(HEADER_BYTES)), 4);
  return entry;
}

/** Makes a new file's directory entry durable (fsync of the directory). */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The records of a segment, and how many bytes at its end are not a whole, intact entry. */
export function readSegment(bytes: Buffer): {
  records: { data: Buffer; arrivalMs: number }[];
  tornBytes: number;
} {
  const records: { data: Buffer; arrivalMs: number }[] = [];
  let at = 0;
  while (at + HEADER_BYTES <= bytes.length) {
    const length = bytes.readUInt32LE(at);
    const end = at + HEADER_BYTES + length;
    if (length < 12 || end > bytes.length) break;
    const body = bytes.subarray(at + HEADER_BYTES, end);
    if (crc32(body) !== bytes.readUInt32LE(at + 4)) break;
    const arrivalMs = body.readDoubleLE(0);
    const count = body.readUInt32LE(8);
    const entry: { data: Buffer; arrivalMs: number }[] = [];
    let p = 12;
    for (let i = 0; i < count && p + 4 <= body.length; i++) {
      const n = body.readUInt32LE(p);
      entry.push({ data: Buffer.from(body.subarray(p + 4, p + 4 + n)), arrivalMs });
      p += 4 + n;
    }
    if (entry.length !== count || p !== body.length) break;
    records.push(...entry);
    at = end;
  }
  return { records, tornBytes: bytes.length - at };
}

// zlib.crc32 is in Node 20.15+ (native, fast); a table for older 20.x.
const TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function tableCrc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
export const crc32: (data: Uint8Array) => number = nativeCrc32 ?? tableCrc32;
