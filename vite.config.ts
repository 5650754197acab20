import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// Cross-origin isolation lets onnxruntime-web use multi-threaded wasm (SharedArrayBuffer).
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * The app's Content-Security-Policy: scripts, workers, styles and data only from its own origin, plus what the
 * studio needs — 'wasm-unsafe-eval' to compile WebAssembly (kernels, onnxruntime-web), blob: workers and data:/blob:
 * images and fetches (the favicon, previews, downloads). No inline script, no eval, no plugins, no foreign origin.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self' data: blob:",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

/** Adds the policy to the built index.html (the dev server's React refresh preamble is an inline script, so not there). */
function contentSecurityPolicy(): Plugin {
  return {
    name: 'content-security-policy',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(html, context) {
        if (!context.filename.endsWith('/index.html') || context.filename.includes('/e2e/')) return html;
        return html.replace(
          '<meta charset="UTF-8" />',
          `<meta charset="UTF-8" />\n    <meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}" />`,
        );
      },
    },
  };
}

/** Every file of a built folder, as paths relative to it with forward slashes. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? filesUnder(dir, relative) : [relative];
  });
}

/**
 * Offline use: writes sw.js into the build (workers/service-worker.template.js with the list of built files and a
 * version hashed from their contents) and marks index.html so public/coi-boot.js registers it. A new build changes
 * sw.js, so browsers install it and drop the older cache.
 */
function offlinePrecache(): Plugin {
  let outDir = 'dist';
  return {
    name: 'offline-precache',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    transformIndexHtml: {
      order: 'post',
      handler(html, context) {
        if (!context.filename.endsWith('/index.html') || context.filename.includes('/e2e/')) return html;
        return html.replace('<meta charset="UTF-8" />', '<meta charset="UTF-8" />\n    <meta name="cstudio-service-worker" content="sw.js" />');
      },
    },
    closeBundle() {
      const files = filesUnder(outDir)
        .filter((f) => f !== 'sw.js' && !f.endsWith('.md') && !f.startsWith('e2e/'))
        .sort();
      const hash = createHash('sha256');
      for (const f of files) hash.update(f).update(readFileSync(path.join(outDir, f)));
      const precache = { version: hash.digest('hex').slice(0, 16), files: ['./', ...files] };
      const template = readFileSync(path.resolve(import.meta.dirname, 'workers/service-worker.template.js'), 'utf8');
      writeFileSync(path.join(outDir, 'sw.js'), `self.__PRECACHE__ = ${JSON.stringify(precache)};\n${template}`);
    },
  };
}

export default defineConfig({
  plugins: [react(), contentSecurityPolicy(), offlinePrecache()],
  server: { headers: isolationHeaders, open: !process.env.CI && !process.env.NO_OPEN },
  preview: { headers: isolationHeaders },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: {
    target: 'es2022',
    // The end-to-end suite runs against a production build, with its own test pages beside the app.
    ...(process.env.E2E ? { rollupOptions: { input: { main: 'index.html', kernels: 'e2e/pages/kernels.html' } } } : {}),
  },
});
