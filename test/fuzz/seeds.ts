/** The fuzzer's seed models: the real models the project has, the demo model, and every synthetic fixture. */
import { readFileSync } from 'node:fs';
import { FIXTURE_BUILDERS } from '../fixtures/build';
import { mlp, plainConvNet, residualConvNet, depthwiseConvNet } from '../fixtures/convnets';
import { matmulModel } from '../fixtures/hostile';
import { serialize } from '../fixtures/onnx-helpers';
import { PATTERN_FIXTURES } from '../fixtures/patterns';
import { REAL_MODELS, readRealModel } from '../helpers/models';
import type { FuzzSeed } from './fuzz';

export function fuzzSeeds(options: { realModels: boolean }): FuzzSeed[] {
  const seeds: FuzzSeed[] = [
    { name: 'matmul', bytes: serialize(matmulModel()) },
    { name: 'mnist-cnn (demo)', bytes: new Uint8Array(readFileSync('public/demo/mnist-cnn.onnx')) },
    ...Object.entries(FIXTURE_BUILDERS).map(([name, build]) => {
      const f = build();
      return { name, bytes: f.bytes, sideFiles: f.sideFiles };
    }),
    ...Object.entries(PATTERN_FIXTURES).map(([name, build]) => ({ name, bytes: build(1).bytes })),
    ...[plainConvNet(), residualConvNet(), depthwiseConvNet(), mlp(32)].map((f) => ({ name: f.name, bytes: f.bytes })),
  ];
  if (options.realModels) seeds.push(...REAL_MODELS.map((name) => ({ name, bytes: readRealModel(name) })));
  return seeds;
}
