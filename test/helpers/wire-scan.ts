/**
 * A tiny protobuf wire-format walker, written independently of the studio's decoder, that counts what an
 * ONNX file stores. Tests compare the catalog against it.
 */

interface Field {
  no: number;
  wire: number;
  value: number | Uint8Array;
}

function* fields(buf: Uint8Array): Generator<Field> {
  let pos = 0;
  const varint = () => {
    let result = 0;
    let mul = 1;
    for (;;) {
      const b = buf[pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
  };
  while (pos < buf.length) {
    const key = varint();
    const no = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) yield { no, wire, value: varint() };
    else if (wire === 1) {
      pos += 8;
      yield { no, wire, value: 0 };
    } else if (wire === 5) {
      pos += 4;
      yield { no, wire, value: 0 };
    } else if (wire === 2) {
      const len = varint();
      yield { no, wire, value: buf.subarray(pos, pos + len) };
      pos += len;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

export interface WireCounts {
  graphs: number;
  nodes: number;
  initializers: number;
  constants: number;
  rawDataBytes: number;
}

const CONSTANT_ATTRS = new Set(['value', 'value_float', 'value_floats', 'value_int', 'value_ints', 'value_string', 'value_strings', 'sparse_value']);

export function scanModel(bytes: Uint8Array): WireCounts {
  const counts: WireCounts = { graphs: 0, nodes: 0, initializers: 0, constants: 0, rawDataBytes: 0 };
  const tensor = (t: Uint8Array) => {
    for (const f of fields(t)) if (f.no === 9 && f.value instanceof Uint8Array) counts.rawDataBytes += f.value.length;
  };
  const graph = (g: Uint8Array) => {
    counts.graphs++;
    for (const f of fields(g)) {
      if (f.no === 1 && f.value instanceof Uint8Array) node(f.value);
      if (f.no === 5 && f.value instanceof Uint8Array) {
        counts.initializers++;
        tensor(f.value);
      }
      if (f.no === 15) counts.initializers++;
    }
  };
  const node = (n: Uint8Array) => {
    counts.nodes++;
    let opType = '';
    const attrs: Uint8Array[] = [];
    for (const f of fields(n)) {
      if (f.no === 4 && f.value instanceof Uint8Array) opType = text(f.value);
      if (f.no === 5 && f.value instanceof Uint8Array) attrs.push(f.value);
    }
    for (const a of attrs) {
      let name = '';
      for (const f of fields(a)) {
        if (f.no === 1 && f.value instanceof Uint8Array) name = text(f.value);
        if (f.no === 6 && f.value instanceof Uint8Array) graph(f.value);
        if (f.no === 11 && f.value instanceof Uint8Array) graph(f.value);
        if (f.no === 5 && f.value instanceof Uint8Array && opType === 'Constant') tensor(f.value);
      }
      if (opType === 'Constant' && CONSTANT_ATTRS.has(name)) counts.constants++;
    }
  };
  for (const f of fields(bytes)) if (f.no === 7 && f.value instanceof Uint8Array) graph(f.value);
  return counts;
}
