/*
 * Cross-origin isolation on hosts that cannot send headers (GitHub Pages, a plain file server): this service
 * worker adds COOP/COEP to every same-origin response, so SharedArrayBuffer — and multi-threaded
 * onnxruntime-web — is available. index.html registers it only when the page is not isolated already (the
 * dev and preview servers send the headers themselves).
 */
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
  if (new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    fetch(request).then((response) => {
      if (response.status === 0) return response;
      const headers = new Headers(response.headers);
      headers.set('Cross-Origin-Opener-Policy', 'same-origin');
      headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
      return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
    }),
  );
});
