/**
 * The lint rule that keeps the page off worker modules (eslint.config.js): src/ui, src/state and src/lab may not
 * import from workers/ (types come from src/protocol); the workers themselves and src/protocol imports are fine.
 */
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function restricted(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}/${filePath}` });
  return result!.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

describe('protocol boundary (lint)', () => {
  it('forbids the UI and the state from importing worker modules', async () => {
    const typeImport = "import type { ModelWorkerApi } from '../../workers/model.worker';\nexport type A = ModelWorkerApi;\n";
    expect(await restricted(typeImport, 'src/state/example.ts')).toHaveLength(1);
    expect(await restricted(typeImport.replace('../../', '../../../'), 'src/ui/compress/example.tsx')).toHaveLength(1);
    expect(await restricted("export { x } from '../../workers/eval.worker';\n", 'src/lab/example.ts')).toHaveLength(1);
  });

  it('allows the protocol module, and the workers importing it', async () => {
    expect(await restricted("import type { ModelWorkerApi } from '../protocol/model';\nexport type A = ModelWorkerApi;\n", 'src/state/example.ts')).toEqual([]);
    expect(await restricted("import type { EvalWorkerApi } from '../src/protocol/eval';\nexport type A = EvalWorkerApi;\n", 'workers/example.ts')).toEqual([]);
  });
});
