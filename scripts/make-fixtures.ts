/**
 * Write the synthetic ONNX fixtures of test/fixtures/build.ts to a folder:
 *   npx tsx scripts/make-fixtures.ts out/dir [fixture-name ...]
 * Each fixture becomes <dir>/<name>/model.onnx plus its external-data side files (which
 * are named relative to the model, so they must sit next to it), and <dir>/manifest.json
 * lists every fixture with its `runnable` flag, feeds' shapes and `expected` facts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FIXTURE_BUILDERS } from '../test/fixtures/build.ts';
import { writeFixture } from '../test/fixtures/write.ts';

function main(argv: string[]): void {
  const [out, ...only] = argv;
  if (!out) {
    console.error('usage: npx tsx scripts/make-fixtures.ts <out-dir> [fixture-name ...]');
    console.error(`fixtures: ${Object.keys(FIXTURE_BUILDERS).join(', ')}`);
    process.exit(2);
  }
  const unknown = only.filter((n) => !(n in FIXTURE_BUILDERS));
  if (unknown.length) {
    console.error(`unknown fixture(s): ${unknown.join(', ')}`);
    process.exit(2);
  }
  const dir = resolve(out);
  mkdirSync(dir, { recursive: true });
  const names = only.length ? only : Object.keys(FIXTURE_BUILDERS);
  const manifest = names.map((name) => {
    const fx = FIXTURE_BUILDERS[name]!();
    const modelPath = writeFixture(dir, fx);
    console.log(`${modelPath} (${fx.bytes.length} B${fx.sideFiles.map((f) => ` + ${f.name}`).join('')})`);
    return {
      name: fx.name,
      description: fx.description,
      model: `${fx.name}/model.onnx`,
      sideFiles: fx.sideFiles.map((f) => `${fx.name}/${f.name}`),
      opsets: fx.opsets,
      runnable: fx.runnable,
      notRunnableReason: fx.notRunnableReason,
      inputs: Object.fromEntries(Object.entries(fx.inputs).map(([k, v]) => [k, { type: v.type, dims: v.dims }])),
      outputShapes: fx.outputShapes,
      expected: fx.expected,
    };
  });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  console.log(`${names.length} fixture(s) written to ${dir}`);
}

main(process.argv.slice(2));
