/** Newline-delimited records of at most `limit` bytes, as a producer packs events (docs/packing.md). */
export function pack(events: readonly Buffer[], limit = 5_000): Buffer[] {
  const records: Buffer[] = [];
  let open: Buffer[] = [];
  let bytes = 0;
  for (const e of events) {
    if (open.length > 0 && bytes + 1 + e.length > limit) {
      records.push(Buffer.from(open.join('\n')));
      open = [];
      bytes = 0;
    }
    bytes += (open.length > 0 ? 1 : 0) + e.length;
    open.push(e);
  }
  if (open.length > 0) records.push(Buffer.from(open.join('\n')));
  return records;
}
