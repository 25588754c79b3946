// Tavla's service worker: keeps the app itself (the page, its script and stylesheet — code,
// never anyone's data) so a pupil can open Tavla again while the box is away and go on
// writing in what the browser kept. Always the box's newest app first; the kept copy only
// when the box cannot be reached. The API, /ws and /yjs are never touched.
const CACHE = 'tavla-app-v1';
const APP = ['/', '/app.js', '/style.css'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(APP)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  const page = request.mode === 'navigate';
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  // The dyslexia-friendly font too, once a page has used it.
  if (!page && !APP.includes(url.pathname) && !url.pathname.startsWith('/fonts/')) return;
  // Every page of the app is the same page (the client routes): it is kept as '/'.
  const key = page ? '/' : url.pathname;
  event.respondWith((async () => {
    try {
      const fresh = await fetch(request);
      if (fresh.ok) await (await caches.open(CACHE)).put(key, fresh.clone());
      return fresh;
    } catch (offline) {
      const kept = await caches.match(key);
      if (kept) return kept;
      throw offline;
    }
  })());
});
