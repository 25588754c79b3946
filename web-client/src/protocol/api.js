// The JSON API: one function per call shape, no DOM. Errors carry the server's stable code,
// which the UI translates.
import { readStored, writeStored } from '../stored.js';

export class ApiFailure extends Error {
  /** `detail` is the error's other fields (`name` for `on_class_list`). */
  constructor(status, code, field, detail = {}) {
    super(code);
    this.status = status;
    this.code = code;
    this.field = field;
    this.detail = detail;
  }
}

export async function api(method, path, body) {
  const options = { method, headers: {}, credentials: 'same-origin' };
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api${path}`, options);
  } catch {
    throw new ApiFailure(0, 'offline');
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new ApiFailure(response.status, data.error?.code ?? 'internal', data.error?.field, data.error ?? {});
  }
  return data;
}

export const get = (path) => api('GET', path);

const KEPT = 'tavla.kept:';

/**
 * A GET whose last answer this browser keeps and gives back when the box cannot be reached,
 * so a page opened while offline still knows who is signed in and which documents are theirs.
 * Only for a person's own small answers (`/me`, `/docs`, a document's facts); `forgetKept`
 * removes them (logging out, someone else signing in).
 */
export async function getKept(path) {
  try {
    const data = await get(path);
    writeStored(KEPT + path, data);
    return data;
  } catch (failure) {
    const kept = failure.code === 'offline' ? readStored(KEPT + path, null) : null;
    if (kept) return { ...kept, offline: true };
    throw failure;
  }
}

export function forgetKept() {
  for (const key of Object.keys(localStorage)) if (key.startsWith(KEPT)) localStorage.removeItem(key);
}
export const post = (path, body = {}) => api('POST', path, body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);

/** Sends a file as the raw body; returns the stored file's `{id, name, content_type, size}`. */
export async function upload(path, file) {
  let response;
  try {
    response = await fetch(`/api${path}`, { method: 'POST', headers: { 'Content-Type': file.type || 'application/octet-stream' }, body: file, credentials: 'same-origin' });
  } catch {
    throw new ApiFailure(0, 'offline');
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiFailure(response.status, data.error?.code ?? 'internal', data.error?.field, data.error ?? {});
  return data;
}
