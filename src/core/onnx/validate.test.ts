import { describe, expect, it } from 'vitest';
import {
  externalLocationModel,
  hugeLengthModel,
  matmulModel,
  negativeDimModel,
  shortRawDataModel,
  sizeBombModel,
  sparseBombModel,
  unknownDtypeModel,
} from '../../../test/fixtures/hostile';
import { serialize, valueInfo, DT } from '../../../test/fixtures/onnx-helpers';
import { isConfinedLocation } from './external-path';
import { openModel } from './open';
import { bytesSource } from './source';
import { ModelInputError } from './types';
import { checkForExport, checkWireFormat, graphProblems, InvalidExportError } from './validate';

async function openError(bytes: Uint8Array, files: { name: string; bytes: Uint8Array }[] = []): Promise<ModelInputError> {
  const err = await openModel([bytesSource('m.onnx', bytes), ...files.map((f) => bytesSource(f.name, f.bytes))]).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelInputError);
  return err as ModelInputError;
}

describe('validation on open', () => {
  it('refuses a tiny sparse tensor that declares 1e9 dense elements, before densifying it', async () => {
    const bytes = sparseBombModel(1e9);
    expect(bytes.length).toBeLessThan(200);
    const before = process.memoryUsage().rss;
    expect((await openError(bytes)).message).toMatch(/sparse tensor "W" declares 1000000000 dense elements .* over the budget/);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 << 20);
  });

  it('refuses a 32768×32768 float weight backed by 16 bytes, naming the sizes', async () => {
    const bytes = sizeBombModel();
    expect(bytes.length).toBeLessThan(200);
    expect((await openError(bytes)).message).toMatch(/tensor "W" \(FLOAT \[32768 × 32768\]\) needs 4294967296 bytes, but its raw data holds 16/);
  });

  it('refuses negative dims, short raw data, unknown dtypes and typed fields of the wrong length', async () => {
    expect((await openError(negativeDimModel())).message).toMatch(/negative dimension \(-4/);
    expect((await openError(shortRawDataModel())).message).toMatch(/needs 64 bytes, but its raw data holds 12/);
    expect((await openError(unknownDtypeModel(99))).message).toMatch(/data type 99/);
    const m = matmulModel();
    const w = m.graph!.initializer[0]!;
    w.floatData = [1, 2, 3];
    w.rawData = new Uint8Array(0);
    expect((await openError(serialize(m))).message).toMatch(/needs 16 stored values, but it holds 3/);
  });

  it('refuses element counts past 2^53 without overflowing', async () => {
    const m = matmulModel();
    m.graph!.initializer[0]!.dims = [2n ** 40n, 2n ** 40n];
    expect((await openError(serialize(m))).message).toMatch(/declares 1208925819614629174706176 elements/);
  });

  it('reports a length field of 2^63 as a parse failure at its byte, never as an empty record', async () => {
    const bytes = hugeLengthModel();
    expect((await openError(bytes)).message).toMatch(
      new RegExp(`protobuf parsing failed at byte ${bytes.length - 11}: field 7 declares 9223372036854775808 bytes`),
    );
  });

  it('refuses a length-delimited field that runs past its parent record', () => {
    const bytes = serialize(matmulModel());
    // Graph (field 7) is the last big record: make its first child claim more than the graph holds.
    const graphAt = bytes.indexOf((7 << 3) | 2);
    const child = graphAt + 2;
    const copy = bytes.slice();
    copy[child + 1] = 0x7f; // the first node's length
    expect(() => checkWireFormat(copy, 'x.onnx')).toThrow(/protobuf parsing failed at byte \d+/);
  });

  it('warns about dangling value info but opens the model', async () => {
    const m = matmulModel();
    m.graph!.valueInfo.push(valueInfo('ghost', DT.FLOAT, [1]));
    const opened = await openModel([bytesSource('m.onnx', serialize(m))]);
    expect(opened.warnings.join(' ')).toMatch(/value info "ghost" in "main" names no value/);
  });

  it('opens a valid model with no warning', async () => {
    const opened = await openModel([bytesSource('m.onnx', serialize(matmulModel()))]);
    expect(opened.warnings).toEqual([]);
  });
});

describe('external data is confined to the model folder', () => {
  it('accepts relative paths below the folder and refuses absolute, drive, URL and ".." paths', () => {
    for (const ok of ['w.bin', 'sub/w.bin', './w.bin', 'a..b']) expect(isConfinedLocation(ok), ok).toBe(true);
    for (const bad of ['../../etc/passwd', '/etc/passwd', 'C:\\Windows\\win.ini', '\\\\server\\share', 'sub/../../x', '..', '', 'file:///etc/passwd', 'a\0b']) {
      expect(isConfinedLocation(bad), bad).toBe(false);
    }
  });

  it('refuses an escaping location in the browser too, with the same message whether or not a file by that name was given', async () => {
    const data = { name: 'passwd', bytes: new Uint8Array(64) };
    const withFile = await openError(externalLocationModel('../../etc/passwd'), [data]);
    const withoutFile = await openError(externalLocationModel('../../etc/passwd'));
    expect(withFile.message).toBe(withoutFile.message);
    expect(withFile.message).toMatch(/External data location "..\/..\/etc\/passwd" is refused/);
    expect((await openError(externalLocationModel('/etc/passwd'))).message).toMatch(/"\/etc\/passwd" is refused/);
  });
});

describe('checks before export', () => {
  it('passes a valid model and refuses one that reads an undefined value', () => {
    const good = matmulModel();
    expect(() => checkForExport(good, serialize(good))).not.toThrow();
    const bad = matmulModel();
    bad.graph!.node[0]!.input[1] = 'missing';
    expect(graphProblems(bad).undefinedValues[0]).toMatch(/reads "missing"/);
    expect(() => checkForExport(bad, serialize(bad))).toThrow(InvalidExportError);
  });
});

describe('the single encode step checks what it writes', () => {
  it('encodeStandalone refuses a model whose node reads an undefined value, and passes a valid one', async () => {
    const { encodeStandalone } = await import('./write');
    const good = matmulModel();
    expect((await encodeStandalone({ dataFiles: new Map() }, good)).byteLength).toBeGreaterThan(0);
    const bad = matmulModel();
    bad.graph!.node[0]!.input[0] = 'nowhere';
    await expect(encodeStandalone({ dataFiles: new Map() }, bad)).rejects.toThrow(
      /failed the studio's checks, so it was not written: node "mm" in "main" reads "nowhere"/,
    );
    const short = matmulModel();
    short.graph!.initializer[0]!.rawData = new Uint8Array(8);
    await expect(encodeStandalone({ dataFiles: new Map() }, short)).rejects.toThrow(InvalidExportError);
  });
});
