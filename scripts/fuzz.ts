/**
 * npm run fuzz [-- --cases N --seed S --verbose]: thousands of seeded mutations of the real models and fixtures
 * through open, analysis and compression; prints the figures (cases, outcomes, slowest case, largest heap growth)
 * and every crash. Exits 1 when any case ends in anything but success or the studio's own clean error.
 */
import { runFuzz } from '../test/fuzz/fuzz';
import { fuzzSeeds } from '../test/fuzz/seeds';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const cases = flag('cases', 3000);
const seed = flag('seed', 1);
const verbose = args.includes('--verbose');
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

const started = performance.now();
const summary = await runFuzz({
  seeds: fuzzSeeds({ realModels: true }),
  cases,
  seed,
  onStart: verbose ? (index, seedName, mutation) => process.stdout.write(`#${index} ${mutation} of ${seedName} … `) : undefined,
  onCase: (c) => {
    if (verbose) process.stdout.write(`${c.outcome} (${c.ms.toFixed(0)} ms, ${c.stage})${c.error ? `: ${c.error.split('\n')[0]}` : ''}\n`);
    else if ((c.index + 1) % 250 === 0) process.stdout.write(`${c.index + 1} / ${cases}\n`);
  },
});
console.log(`\nfuzz: ${summary.cases} cases, seed ${seed}, ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.log(
  `outcomes: ${Object.entries(summary.outcomes)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`,
);
for (const [mutation, o] of Object.entries(summary.byMutation))
  console.log(`  ${mutation.padEnd(18)} success ${o.success}, clean error ${o['clean-error']}, crash ${o.crash}`);
const s = summary.slowest;
console.log(`slowest case: #${s.index} ${s.mutation} of ${s.seed}, ${s.ms.toFixed(0)} ms (${s.outcome} at ${s.stage})`);
const l = summary.largestHeapGrowth;
console.log(`largest heap + array-buffer growth: #${l.index} ${l.mutation} of ${l.seed}, ${mib(l.heapGrowth)}; peak RSS ${mib(summary.peakRss)}`);
for (const c of summary.crashes) console.log(`CRASH #${c.index} ${c.mutation} of ${c.seed} at ${c.stage}: ${c.error}`);
process.exit(summary.crashes.length ? 1 : 0);
