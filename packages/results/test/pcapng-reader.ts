// A reader of the pcapng files the capture writes, for tests: walks the blocks, checks their framing, and returns the interfaces and packets.

export interface ReadPacket {
  readonly iface: number;
  readonly ts: bigint;
  readonly capturedLength: number;
  readonly originalLength: number;
  readonly data: Uint8Array;
  /** Options by code (value bytes, unpadded). */
  readonly options: ReadonlyMap<number, Uint8Array>;
}

export interface ReadFile {
  readonly interfaces: readonly { readonly linkType: number; readonly snapLen: number; readonly options: ReadonlyMap<number, Uint8Array> }[];
  readonly packets: readonly ReadPacket[];
}

function options(view: DataView, from: number, to: number): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  let at = from;
  while (at < to) {
    const code = view.getUint16(at, true);
    const len = view.getUint16(at + 2, true);
    if (code === 0) {
      if (len !== 0 || at + 4 !== to) throw new Error(`opt_endofopt at ${at} is not the last 4 bytes of the options`);
      return out;
    }
    out.set(code, new Uint8Array(view.buffer, view.byteOffset + at + 4, len));
    at += 4 + ((len + 3) & ~3);
  }
  if (at !== to) throw new Error(`options overrun their block (${at} > ${to})`);
  return out;
}

/** Parse a little-endian pcapng section: SHB first, then IDBs and EPBs; throws on any framing error. */
export function readPcapng(bytes: Uint8Array): ReadFile {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const interfaces: { linkType: number; snapLen: number; options: Map<number, Uint8Array> }[] = [];
  const packets: ReadPacket[] = [];
  let at = 0;
  let first = true;
  while (at < bytes.length) {
    const type = view.getUint32(at, true);
    const len = view.getUint32(at + 4, true);
    if (len % 4 !== 0 || len < 12 || at + len > bytes.length) throw new Error(`block at ${at}: bad length ${len}`);
    if (view.getUint32(at + len - 4, true) !== len) throw new Error(`block at ${at}: trailing length differs`);
    if (first !== (type === 0x0a0d0d0a)) throw new Error(`block at ${at}: the section header must come first, and only there`);
    if (type === 0x0a0d0d0a) {
      if (view.getUint32(at + 8, true) !== 0x1a2b3c4d) throw new Error('byte-order magic');
      options(view, at + 24, at + len - 4);
    } else if (type === 1) {
      interfaces.push({ linkType: view.getUint16(at + 8, true), snapLen: view.getUint32(at + 12, true), options: options(view, at + 16, at + len - 4) });
    } else if (type === 6) {
      const iface = view.getUint32(at + 8, true);
      if (iface >= interfaces.length) throw new Error(`packet at ${at} on undeclared interface ${iface}`);
      const ts = (BigInt(view.getUint32(at + 12, true)) << 32n) | BigInt(view.getUint32(at + 16, true));
      const capturedLength = view.getUint32(at + 20, true);
      const originalLength = view.getUint32(at + 24, true);
      const dataEnd = at + 28 + ((capturedLength + 3) & ~3);
      packets.push({ iface, ts, capturedLength, originalLength, data: bytes.subarray(at + 28, at + 28 + capturedLength), options: options(view, dataEnd, at + len - 4) });
    } else {
      throw new Error(`block at ${at}: unexpected type ${type}`);
    }
    first = false;
    at += len;
  }
  return { interfaces, packets };
}
