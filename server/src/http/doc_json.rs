//! How a document is described to the web client (lists, a document's page, a new copy).

use serde::Serialize;

use crate::docs::access::DocKind;
use crate::service::docs::{DocEntry, NamedWriter};

/// A document as the caller sees it (with the start of its text in the teacher's overview).
#[derive(Serialize)]
pub struct DocAnswer<'a> {
    name: String,
    kind: DocKind,
    /// Whose personal document it is.
    title: Option<&'a str>,
    /// A group document's group number.
    group: Option<usize>,
    /// A copy's title, as the teacher gave it.
    copy_title: Option<&'a str>,
    read_only: bool,
    /// The caller may change it.
    writable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    preview: Option<&'a str>,
    /// Teachers, in the overview of a document several people write in: who added most.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    writers: &'a [NamedWriter],
    /// With `writers`: the share of the document each pupil or guest has.
    #[serde(skip_serializing_if = "Option::is_none")]
    share_bytes: Option<u64>,
}

pub(super) fn describe(entry: &DocEntry) -> DocAnswer<'_> {
    let resolved = &entry.resolved;
    DocAnswer {
        name: resolved.name.to_string(),
        kind: resolved.name.kind(),
        title: resolved.owner_name.as_deref(),
        group: resolved.group_number,
        copy_title: resolved.title.as_deref(),
        read_only: resolved.settings.read_only,
        writable: entry.writable,
        preview: entry.preview.as_deref(),
        writers: &entry.writers,
        share_bytes: entry.share_bytes,
    }
}

/// A list of documents.
#[derive(Serialize)]
pub struct DocList<'a> {
    pub docs: Vec<DocAnswer<'a>>,
}
