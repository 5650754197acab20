/*
 * The studio's service worker, written into the build as sw.js with the list of built files filled in (vite.config.ts,
 * offlinePrecache). It does two things:
 *  - Offline: on install it caches every built file (app shell, workers, onnxruntime-web's wasm, the demo model and
 *    digits) under a cache named after the build; later loads work with the network off. Pages are fetched network
 *    first (a new build's index.html is picked up on the next load while online), hashed assets cache first. A new
 *    build writes a different sw.js, which the browser installs; its activation deletes the older caches.
 *  - Cross-origin isolation on hosts that cannot send headers: COOP/COEP are added to every same-origin response,
 *    so SharedArrayBuffer (multi-threaded onnxruntime-web) is available.
 * Nothing here talks to another origin: requests to other origins are not touched (the CSP allows none anyway).
 */
const PRECACHE = self.__PRECACHE__;
const CACHE = `cstudio-${PRECACHE.version}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE.files.map((file) => new Request(new URL(file, self.registration.scope), { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key.startsWith('cstudio-') && key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

/** The response with COOP/COEP added (opaque responses pass as they are). */
function isolated(response) {
  if (response.status === 0) return response;
  const headers = new Headers(response.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

async function fromNetworkFirst(request) {
  try {
    const response = await fetch(request);
    if (response.ok) {
      const cache = await caches.open(CACHE);
      await cache.put(request, response.clone());
    }
    return response;
  } catch (err) {
    // Responses may vary on Origin (module scripts send one, precache requests do not): match on the URL alone.
    const cached =
      (await caches.match(request, { ignoreSearch: true, ignoreVary: true })) ??
      (await caches.match(new URL('./', self.registration.scope).href, { ignoreVary: true }));
    if (cached) return cached;
    throw err;
  }
}

async function fromCacheFirst(request) {
  // Module scripts send an Origin header and the server varies on it; the precache requests sent none.
  const cached = await caches.match(request, { ignoreSearch: true, ignoreVary: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && request.method === 'GET') {
    const cache = await caches.open(CACHE);
    await cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
  if (new URL(request.url).origin !== self.location.origin) return;
  if (request.method !== 'GET' || request.headers.has('range')) {
    event.respondWith(fetch(request).then(isolated));
    return;
  }
  const page = request.mode === 'navigate';
  event.respondWith((page ? fromNetworkFirst(request) : fromCacheFirst(request)).then(isolated));
});
