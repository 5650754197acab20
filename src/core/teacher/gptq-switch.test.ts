/** GPTQ switched off in the recipe: Hessians passed in anyway must not change a single written byte. */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { fixtureSamples, resNetStyle } from '../../../test/fixtures/channel-groups';
import { createNodeRuntime } from '../../runtime/ort-node';
import { compressModel } from '../compress/compress';
import { staticCalibrationNames } from '../compress/quantize/static';
import { openModel } from '../onnx/open';
import { bytesSource } from '../onnx/source';
import { DEFAULT_QUANTIZE, type QuantizeRecipe } from '../recipe';
import { captureActivations } from './capture';
import { collectHessians } from './gptq-layers';

ort.env.logLevel = 'error';
const runtime = createNodeRuntime({ threads: 1 });

describe('GPTQ off with Hessians present', () => {
  const f = resNetStyle({ width: 8, size: 16 });
  const samples = fixtureSamples(f, 8);
  const recipes: Record<string, QuantizeRecipe> = {
    'qdq 4-bit blocks': { ...DEFAULT_QUANTIZE, bits: 4, granularity: 'block', blockSize: 32 },
    'static int8': { ...DEFAULT_QUANTIZE, format: 'static' },
  };
  for (const [label, base] of Object.entries(recipes))
    for (const gptq of [undefined, { enabled: false }])
      it(`${label}, gptq ${JSON.stringify(gptq)}: the same bytes as round to nearest`, async () => {
        const recipe: QuantizeRecipe = { ...base, ...(gptq ? { gptq } : {}) };
        const open = () => openModel([bytesSource('m.onnx', f.bytes)]);
        const calibration =
          base.format === 'static'
            ? (await captureActivations(runtime, f.bytes, await staticCalibrationNames(await open(), recipe), samples)).stats
            : undefined;
        const layers = (await collectHessians(runtime, f.bytes, samples)).layers;
        const rtn = await compressModel(await open(), { version: 1, quantize: recipe }, calibration ? { calibration } : {});
        const withHessians = await compressModel(
          await open(),
          { version: 1, quantize: recipe },
          { ...(calibration ? { calibration } : {}), gptq: { layers, options: {} } },
        );
        expect(withHessians.quantize!.tensors.filter((t) => t.gptq).map((t) => t.name)).toEqual([]);
        expect(Buffer.from(withHessians.bytes).equals(Buffer.from(rtn.bytes))).toBe(true);
      }, 120_000);
});
