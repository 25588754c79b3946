// Pictures in a document: chosen with the toolbar button, pasted or dropped. Each is uploaded
// to the box (never kept as data in the document) and shown from there, with the alt text the
// writer gives it for screen readers.
import { Plugin } from 'prosemirror-state';
import { upload } from '../protocol/api.js';
import { schema } from './schema.js';

const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];
export const IMAGE_ACCEPT = IMAGE_TYPES.join(',');

/**
 * Uploads `file` for document `docName` and inserts it at the selection (or `pos`).
 * `askAlt(file)` returns the alt text, or null to cancel. Failures go to `onError(failure)`.
 */
export async function insertImage({ view, docName, file, askAlt, onError, pos }) {
  if (!IMAGE_TYPES.includes(file.type)) {
    onError({ code: 'unsupported_file' });
    return;
  }
  const alt = askAlt(file);
  if (alt === null) return;
  try {
    const saved = await upload(`/files?doc=${encodeURIComponent(docName)}&name=${encodeURIComponent(file.name || 'bilde')}`, file);
    const node = schema.nodes.image.create({ src: `/api/files/${saved.id}`, alt });
    const at = pos ?? view.state.selection.from;
    view.dispatch(view.state.tr.insert(Math.min(at, view.state.doc.content.size), node).scrollIntoView());
  } catch (failure) {
    onError(failure);
  }
}

/** Pasted and dropped picture files become uploaded images instead of being lost. */
export function imageDropPlugin({ docName, askAlt, onError }) {
  const take = (view, files, pos) => {
    const images = [...files].filter((f) => IMAGE_TYPES.includes(f.type));
    if (images.length === 0 || !view.editable) return false;
    for (const file of images) insertImage({ view, docName, file, askAlt, onError, pos });
    return true;
  };
  return new Plugin({
    props: {
      handlePaste: (view, event) => take(view, event.clipboardData?.files ?? []),
      handleDrop: (view, event) => {
        const at = view.posAtCoords({ left: event.clientX, top: event.clientY });
        return take(view, event.dataTransfer?.files ?? [], at?.pos);
      },
    },
  });
}
