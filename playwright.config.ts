import { defineConfig, devices } from '@playwright/test';

const PORT = Number(process.env.E2E_PORT ?? 5199);
const CI = !!process.env.CI;
const DIST = '.cache/e2e-dist';
const ALONE = /(responsiveness|kernels-webgpu)\.spec\.ts/;
const RESPONSIVENESS = /responsiveness\.spec\.ts/;
const WEBGPU_PARITY = /kernels-webgpu\.spec\.ts/;

export default defineConfig({
  testDir: 'e2e',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: true,
  forbidOnly: CI,
  retries: 0,
  workers: 2,
  reporter: [['list'], ['json', { outputFile: 'test-results/e2e.json' }]],
  outputDir: 'test-results/artifacts',
  use: {
    baseURL: `http://localhost:${PORT}`,
    headless: true,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    // The built app registers a service worker that caches the whole build (28 MB) on install; only the specs about
    // it (offline, production) let it run, so the others do not pay for it in every fresh context.
    serviceWorkers: 'block',
    launchOptions: {
      // Debian's Chromium; never `npx playwright install` (no internet on these machines).
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-unsafe-webgpu'],
    },
  },
  projects: [
    { name: 'chromium', use: { ...devices['Desktop Chrome'], channel: undefined }, testIgnore: ALONE },
    // Run last, one at a time, each project in a browser of its own: long-task checks first (a spec beside them
    // starves the page of CPU on a 2-core box), then the WebGPU kernel parity suite. SwiftShader keeps every core
    // busy for a minute and its GPU process stays busy after the page closes: a sweep timed after it in the same
    // browser read long tasks of 68–196 ms (CI), one timed in a fresh browser none.
    { name: 'alone', use: { ...devices['Desktop Chrome'], channel: undefined }, testMatch: RESPONSIVENESS, dependencies: ['chromium'], workers: 1 },
    { name: 'webgpu', use: { ...devices['Desktop Chrome'], channel: undefined }, testMatch: WEBGPU_PARITY, dependencies: ['alone'], workers: 1 },
  ],
  webServer: {
    // The specs drive a production build (built in seconds, served with the isolation headers by vite preview): the
    // dev server transforms ~250 modules on each fresh page, which on a fresh clone under two browsers took longer
    // than a spec's first step. E2E=1 adds the test pages to the build. --strictPort: fail rather than drift.
    command: `E2E=1 npx vite build --outDir ${DIST} --emptyOutDir --logLevel error && npx vite preview --outDir ${DIST} --port ${PORT} --strictPort`,
    url: `http://localhost:${PORT}`,
    reuseExistingServer: !CI,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
