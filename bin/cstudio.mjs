#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so the CLI always uses the same core code as the studio.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main();
