#!/usr/bin/env node
// Runs every test: type check, lint (eslint + prettier check), unit tests (vitest) and end-to-end tests (Playwright with Debian's Chromium),
// then prints one closing line "N passed, N failed" summing unit and e2e results.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

const RESULTS = 'test-results';
rmSync(`${RESULTS}/unit.json`, { force: true });
rmSync(`${RESULTS}/e2e.json`, { force: true });
mkdirSync(RESULTS, { recursive: true });

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const step = (title, args, env = {}) => {
  console.log(`\n=== ${title}: npx ${args.join(' ')}`);
  const r = spawnSync(npx, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
};
const readJson = (file) => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined);

let passed = 0;
let failed = 0;

const typecheck = step('type check', ['tsc', '--noEmit']);
if (typecheck !== 0) failed++;

const lint = step('lint', ['eslint', '.']) || step('format check', ['prettier', '--check', '.']);
if (lint !== 0) failed++;

const unitStatus = step('unit tests', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${RESULTS}/unit.json`]);
const unit = readJson(`${RESULTS}/unit.json`);
if (unit) {
  passed += unit.numPassedTests;
  failed += unit.numFailedTests;
  if (unitStatus !== 0 && unit.numFailedTests === 0) failed++; // a suite that failed to load
} else failed++;

const e2eStatus = step('end-to-end tests', ['playwright', 'test', '--reporter=list,json'], { PLAYWRIGHT_JSON_OUTPUT_NAME: `${RESULTS}/e2e.json` });
const e2e = readJson(`${RESULTS}/e2e.json`);
if (e2e) {
  passed += e2e.stats.expected + e2e.stats.flaky;
  failed += e2e.stats.unexpected;
  if (e2eStatus !== 0 && e2e.stats.unexpected === 0) failed++;
} else failed++;

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
