// Tavla's service worker: keeps the app itself (the page, its script and stylesheet — code,
// never anyone's data) so a pupil can open Tavla again while the box is away and go on
// writing in what the browser kept. Always the box's newest app first; the kept copy only
// when the box cannot be reached. The API, /ws and /yjs are never touched.
// v2: v1 could hold what a navigation to something else answered; it is dropped on activation.
const CACHE = 'tavla-app-v2';
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

/** What may be kept: the app's own code by its path and its type, never anything else a page or
 * tab opened (the API's answers, someone's picture, an export). */
const keepable = (path, type) => {
  if (path === '/') return type.startsWith('text/html');
  if (path === '/app.js') return type.startsWith('text/javascript') || type.startsWith('application/javascript');
  if (path === '/style.css') return type.startsWith('text/css');
  if (path.startsWith('/fonts/')) return type.startsWith('font/') || type.startsWith('application/font');
  return false;
};

/** A page of the app (the client routes them all to the same page), not the API or a file. */
const isAppPage = (path) => !path.startsWith('/api/') && !path.startsWith('/yjs/') && path !== '/ws' && !path.includes('.');

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  const page = request.mode === 'navigate';
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  // The dyslexia-friendly font too, once a page has used it.
  if (page ? !isAppPage(url.pathname) : !APP.includes(url.pathname) && !url.pathname.startsWith('/fonts/')) return;
  // Every page of the app is the same page: it is kept as '/', and only when it is that page.
  const key = page ? '/' : url.pathname;
  event.respondWith((async () => {
    try {
      const fresh = await fetch(request);
      const type = fresh.headers.get('content-type') ?? '';
      const attachment = (fresh.headers.get('content-disposition') ?? '').startsWith('attachment');
      if (fresh.ok && !fresh.redirected && !attachment && keepable(key, type)) {
        await (await caches.open(CACHE)).put(key, fresh.clone());
      }
      return fresh;
    } catch (offline) {
      const kept = await caches.match(key);
      if (kept) return kept;
      throw offline;
    }
  })());
});
