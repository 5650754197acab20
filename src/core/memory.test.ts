import { describe, expect, it } from 'vitest';
import { matmulModel } from '../../test/fixtures/hostile';
import { serialize } from '../../test/fixtures/onnx-helpers';
import { browserMemoryBudget, checkMemoryBudget, estimatePeakBytes } from './memory';
import { openModel } from './onnx/open';
import { bytesSource } from './onnx/source';
import { ModelInputError } from './onnx/types';

describe('memory budget', () => {
  it('estimates from the catalog: bytes held plus three float32 copies of the largest tensor', async () => {
    const bytes = serialize(matmulModel());
    const opened = await openModel([bytesSource('m.onnx', bytes)]);
    expect(estimatePeakBytes(opened, 'stats')).toBe(bytes.length + 16 * 4 * 3);
    expect(estimatePeakBytes(opened, 'compress')).toBe(2 * bytes.length + 16 * 4 * 3);
  });

  it('over the budget is a clear error before any work; no budget, no check', async () => {
    const opened = await openModel([bytesSource('m.onnx', serialize(matmulModel()))]);
    expect(() => checkMemoryBudget(opened, 'compress', 100)).toThrow(ModelInputError);
    expect(() => checkMemoryBudget(opened, 'compress', 100)).toThrow(/Compressing m\.onnx needs about 0\.00 GiB of memory, over the budget of 0\.00 GiB/);
    expect(() => checkMemoryBudget(opened, 'compress', 10_000)).not.toThrow();
    expect(() => checkMemoryBudget(opened, 'compress', undefined)).not.toThrow();
  });

  it('in a browser: half of navigator.deviceMemory, else 2 GiB', () => {
    expect(browserMemoryBudget(8)).toBe(4 * 2 ** 30);
    expect(browserMemoryBudget(undefined)).toBe(2 * 2 ** 30);
  });
});
