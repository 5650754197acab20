/**
 * Latency of models in onnxruntime-web (wasm) inside headless Chromium: starts a Vite server for
 * bench/pages/ort-latency.html, hands each model's bytes to the page and reads back median/p90.
 */
import { chromium, type Page } from '@playwright/test';
import { spawn } from 'node:child_process';

export interface BrowserModel {
  label: string;
  bytes: Uint8Array;
  input: { name: string; dims: number[] };
}

/** Starts a Vite server and headless Chromium on `page` (a path under the repo), runs `run`, and tears both down. */
export async function withBenchPage<T>(pagePath: string, ready: string, run: (page: Page) => Promise<T>, flags: string[] = []): Promise<T | string> {
  const port = 5321;
  const server = spawn('npx', ['vite', '--port', String(port), '--strictPort'], { env: { ...process.env, NO_OPEN: '1' }, stdio: 'ignore', detached: true });
  try {
    for (let i = 0; i < 60; i++) {
      const ok = await fetch(`http://localhost:${port}/${pagePath}`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', ...flags],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`http://localhost:${port}/${pagePath}`);
      await page.waitForFunction((name) => typeof (window as unknown as Record<string, unknown>)[name] === 'function', ready, { timeout: 60_000 });
      return await run(page);
    } finally {
      await browser.close();
    }
  } catch (err) {
    return `browser bench skipped: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    try {
      process.kill(-server.pid!, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
}

export async function browserLatencies(models: BrowserModel[], runs = 20): Promise<{ label: string; median: number; p90: number }[] | string> {
  return withBenchPage('bench/pages/ort-latency.html', 'timeModel', async (page) => {
    const out = [];
    for (const m of models) {
      const r = await page.evaluate(
        async ({ b64, input, runs }) => {
          const bin = atob(b64);
          const bytes = new Uint8Array(bin.length);
          for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
          return window.timeModel(bytes, input, runs);
        },
        { b64: Buffer.from(m.bytes).toString('base64'), input: m.input, runs },
      );
      out.push({ label: m.label, median: r.median, p90: r.p90 });
    }
    return out;
  });
}

/** Pairs of models timed interleaved in onnxruntime-web (wasm, one thread): each pair's medians from the same run. */
export async function browserPairLatencies(
  pairs: { label: string; a: Uint8Array; b: Uint8Array; input: { name: string; dims: number[] } }[],
  runs = 30,
): Promise<{ label: string; a: number; b: number; aMin: number; bMin: number }[] | string> {
  return withBenchPage('bench/pages/ort-latency.html', 'timePair', async (page) => {
    const out = [];
    for (const p of pairs) {
      const r = await page.evaluate(
        // No named helpers in here: the bundler would wrap them in a __name() the page does not have.
        async ({ a64, b64, input, runs }) => {
          const [a, b] = [a64, b64].map((s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0)));
          return window.timePair(a!, b!, input, runs);
        },
        { a64: Buffer.from(p.a).toString('base64'), b64: Buffer.from(p.b).toString('base64'), input: p.input, runs },
      );
      out.push({ label: p.label, a: r.a.median, b: r.b.median, aMin: r.a.min, bMin: r.b.min });
    }
    return out;
  });
}
