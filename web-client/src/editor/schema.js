// The document schema: ProseMirror's basic nodes and marks plus lists. Node and mark names are
// the wire format (y-prosemirror stores them as Yjs XML element names and text attributes), and
// the server's exporter reads the same names; docs/PROTOCOL.md lists them.
import { Schema } from 'prosemirror-model';
import { schema as basic } from 'prosemirror-schema-basic';
import { addListNodes } from 'prosemirror-schema-list';

export const schema = new Schema({
  nodes: addListNodes(basic.spec.nodes, 'paragraph block*', 'block'),
  marks: basic.spec.marks,
});

/** The Yjs XML fragment every Tavla document keeps its rich text in. */
export const FRAGMENT = 'prosemirror';
