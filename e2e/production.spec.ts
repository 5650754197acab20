/**
 * The production build on a static file server that sends no COOP/COEP headers (as most static hosts): the
 * bundled service worker (public/coi-sw.js) makes the page cross-origin isolated, so onnxruntime-web can run
 * multi-threaded wasm (chosen here: the default on a 2-core machine is one thread), and an evaluation runs end
 * to end from the built files.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { expect, openView, test } from './support';

const OUT = path.resolve('test-results/production-dist');
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};
let server: Server;
let url: string;

test.beforeAll(async () => {
  test.setTimeout(180_000);
  execFileSync('npx', ['vite', 'build', '--outDir', OUT, '--emptyOutDir', '--logLevel', 'error'], { stdio: 'pipe' });
  server = createServer(async (req, res) => {
    const file = path.join(OUT, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/\/$/, '/index.html'));
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  const address = server.address();
  url = `http://localhost:${typeof address === 'object' && address ? address.port : 0}/`;
});

// The service worker is what makes this page isolated.
test.use({ serviceWorkers: 'allow' });

test.afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('the built app on a header-less static server is cross-origin isolated and evaluates on multi-threaded wasm', async ({ page }) => {
  test.setTimeout(90_000);
  await page.goto(url);
  await expect(page.getByTestId('model-name')).toHaveText('mnist-cnn.onnx');
  // The service worker reloads the page once, after it has cached the build: the probe may meet that navigation.
  await expect.poll(() => page.evaluate(() => crossOriginIsolated).catch(() => false), { timeout: 30_000 }).toBe(true);
  await expect(page.getByTestId('model-name')).toHaveText('mnist-cnn.onnx');
  const lab = page.getByTestId('evaluate-panel');
  await openView(page, 'evaluate');
  await lab.scrollIntoViewIfNeeded();
  await expect(lab.getByTestId('env-isolated')).toHaveText('yes');
  await lab.getByTestId('env-threads').selectOption('2');
  await expect(lab.getByTestId('eval-env')).toContainText('wasm 2 threads');
  await lab.getByTestId('evaluate-button').click();
  await expect(lab.getByTestId('backend-wasm').getByTestId('accuracy-original')).toHaveText('97.8%', { timeout: 45_000 });
});
