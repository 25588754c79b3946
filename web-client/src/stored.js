// JSON kept in this browser's localStorage. A missing or unreadable value reads as the
// fallback; a full or switched-off storage loses only that write, never the page.

export function readStored(key, fallback) {
  try {
    const raw = localStorage.getItem(key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

export function writeStored(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Full or off: what the page holds is still good now.
  }
}
