import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Cross-origin isolation lets onnxruntime-web use multi-threaded wasm (SharedArrayBuffer).
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [react()],
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
