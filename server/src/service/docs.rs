//! Shared documents for their readers and their teacher: which ones someone can open (with the
//! teacher's previews), exports (one document, or a whole lesson as a zip), and the teacher's
//! read-only switch.

use std::io::Write;
use std::net::IpAddr;

use serde::Serialize;

use super::{access, Services};

use crate::auth::{can, teachers, Action, Who};
use crate::docs::access::{self as doc_access, DocKind, DocName, DocSettings, Resolved};
use crate::docs::export::{self, Format};
use crate::docs::listing;
use crate::docs::quota::{Learner, Payer};
use crate::docs::room::Person;
use crate::error::ServiceError;
use crate::ids::LessonId;
use crate::lessons::presence::LessonEvent;
use crate::lessons::{classes, groups, lesson};
use crate::store::Store;

/// Characters of text in a teacher's preview of each document.
const PREVIEW_CHARS: usize = 240;

/// A document as someone sees it in a list or on its page.
pub struct DocEntry {
    pub resolved: Resolved,
    /// The caller may write in it now.
    pub writable: bool,
    /// The start of its text (the teacher's overview); `None` when not asked for.
    pub preview: Option<String>,
    /// With the preview, in a document several people write in: who wrote most into it since
    /// the box started, most first, so the teacher sees who filled it.
    pub writers: Vec<NamedWriter>,
    /// With `writers`: each person's share of the document.
    pub share_bytes: Option<u64>,
}

/// A pupil or guest and what they added to one document.
#[derive(Serialize)]
pub struct NamedWriter {
    pub name: String,
    pub bytes: u64,
}

/// How many of a document's writers the teacher's overview names.
const WRITERS_NAMED: usize = 3;

fn entry(s: &Services, who: &Who, resolved: Resolved, preview: bool) -> DocEntry {
    let name = resolved.name.to_string();
    let writers = if preview && resolved.name.is_shared() {
        s.docs
            .ledger()
            .writers(&name)
            .into_iter()
            .take(WRITERS_NAMED)
            .filter_map(|w| {
                let person =
                    lesson::get_participant(s.store.as_ref(), &w.lesson_id, &w.participant_id);
                person.ok().map(|p| NamedWriter {
                    name: p.name,
                    bytes: w.bytes,
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    DocEntry {
        writable: can(who, Action::WriteDoc(resolved.facts())),
        // A damaged document still lists (its preview is empty); opening it reports the damage.
        preview: preview.then(|| s.docs.preview(&name, PREVIEW_CHARS).unwrap_or_default()),
        share_bytes: (!writers.is_empty()).then_some(s.docs.limits().share_of_shared),
        writers,
        resolved,
    }
}

/// Pupils: the class document, their own, their group's and copies made for them. Teachers
/// (naming one of their lessons): every document of the lesson, each with a preview.
pub fn openable(
    s: &Services,
    who: &Who,
    lesson: Option<&LessonId>,
) -> Result<Vec<DocEntry>, ServiceError> {
    let store = s.store.as_ref();
    let (docs, preview) = match who {
        Who::Nobody => return Err(ServiceError::Unauthenticated),
        Who::Camera { .. } | Who::PairedBox { .. } => return Err(ServiceError::Forbidden),
        Who::Pupil(seat) => {
            let mut names = vec![
                DocName::LessonClass {
                    lesson_id: seat.lesson_id.clone(),
                },
                DocName::personal(&seat.lesson_id, &seat.participant_id, &seat.class_id),
            ];
            if let Some(group) =
                groups::of_participant(store, &seat.lesson_id, &seat.participant_id)?
            {
                names.push(DocName::Group {
                    lesson_id: seat.lesson_id.clone(),
                    group_id: group.id,
                });
            }
            // Only the copies for this pupil survive the read filter below.
            names.extend(listing::copies_of(store, &seat.lesson_id)?);
            (listing::resolve_existing(store, names)?, false)
        }
        Who::Teacher { .. } => {
            let lesson = access::own_lesson(s, who, lesson.ok_or(ServiceError::NotFound)?)?;
            (listing::lesson_docs(store, &lesson)?, true)
        }
    };
    Ok(docs
        .into_iter()
        .filter(|r| can(who, Action::ReadDoc(r.facts())))
        .map(|r| entry(s, who, r, preview))
        .collect())
}

/// One document the caller may read.
pub fn one(s: &Services, who: &Who, doc: &str) -> Result<DocEntry, ServiceError> {
    let resolved = access::readable_doc(s, who, doc)?;
    Ok(entry(s, who, resolved, false))
}

/// A document opened live (`/yjs`): it must be one the caller may read (another teacher's
/// looks like none; a pupil or camera is told no), and the caller as others see them on their
/// cursor — from the sign-in, never from the client — and who pays for what the connection
/// adds (a pupil or guest, counted also by the device at `address`).
pub fn open_live(
    s: &Services,
    who: &Who,
    doc: &str,
    address: Option<IpAddr>,
) -> Result<(Resolved, Person, Payer), ServiceError> {
    let name = DocName::parse(doc).ok_or(ServiceError::NotFound)?;
    let resolved = doc_access::resolve(s.store.as_ref(), name)?;
    if !can(who, Action::ReadDoc(resolved.facts())) {
        return Err(match who {
            Who::Teacher { .. } => ServiceError::NotFound,
            _ => ServiceError::Forbidden,
        });
    }
    let store = s.store.as_ref();
    let person = match who {
        Who::Teacher { teacher_id } => Person {
            id: Some(format!("teacher:{teacher_id}")),
            name: teachers::get(store, teacher_id)
                .ok()
                .flatten()
                .map(|t| t.name),
            role: Some("teacher"),
        },
        Who::Pupil(seat) => Person {
            id: Some(format!("pupil:{}:{}", seat.lesson_id, seat.participant_id)),
            name: lesson::get_participant(store, &seat.lesson_id, &seat.participant_id)
                .ok()
                .map(|p| p.name),
            role: Some("pupil"),
        },
        Who::Nobody | Who::Camera { .. } | Who::PairedBox { .. } => Person::default(),
    };
    let payer = match who {
        Who::Pupil(seat) => Payer::Learner(Learner {
            lesson_id: seat.lesson_id.clone(),
            participant_id: seat.participant_id.clone(),
            address,
        }),
        // Nobody else may write (`auth::can`); a teacher is never refused for room.
        _ => Payer::Teacher,
    };
    Ok((resolved, person, payer))
}

/// Whether `who` may write in an open document now: the teacher may have made it read-only
/// since the connection opened (`read_only_now`).
pub fn may_write_now(who: &Who, resolved: &Resolved, read_only_now: bool) -> bool {
    let mut facts = resolved.facts();
    facts.read_only = read_only_now;
    can(who, Action::WriteDoc(facts))
}

/// A file to download: its name and bytes.
pub struct Exported {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// One document the caller may read, as HTML, Markdown or plain text in `lang`.
pub fn export_one(
    s: &Services,
    who: &Who,
    doc: &str,
    format: Format,
    lang: &str,
) -> Result<Exported, ServiceError> {
    let resolved = access::readable_doc(s, who, doc)?;
    let (title, stem) = naming(s.store.as_ref(), &resolved, lang)?;
    let snapshot = s.docs.snapshot_of(&resolved.name.to_string())?;
    let body = export::render(&snapshot, format, &title, lang)?;
    Ok(Exported {
        file_name: format!("{stem}.{}", format.extension()),
        bytes: body.into_bytes(),
    })
}

/// Every document of the teacher's lesson that has text, each as HTML, Markdown and text, in
/// one zip (documents nobody wrote in are left out). Slow for a big lesson: call it off the
/// async threads.
pub fn lesson_zip(
    s: &Services,
    who: &Who,
    lesson_id: &LessonId,
    lang: &str,
) -> Result<Exported, ServiceError> {
    let lesson = access::own_lesson(s, who, lesson_id)?;
    let store = s.store.as_ref();
    let class = classes::get(store, &lesson.class_id)?;
    let mut files = Vec::new();
    for resolved in listing::lesson_docs(store, &lesson)? {
        let (title, stem) = naming(store, &resolved, lang)?;
        let snapshot = s.docs.snapshot_of(&resolved.name.to_string())?;
        let text = export::render(&snapshot, Format::Text, &title, lang)?;
        if !text.trim().is_empty() {
            files.push((title, stem, snapshot));
        }
    }
    Ok(Exported {
        file_name: format!(
            "{}-{}.zip",
            file_stem(&class.name),
            lesson_day(lesson.started_ms)
        ),
        bytes: build_zip(files, lang)?,
    })
}

/// The teacher makes a document read-only for pupils (or writable again). Open connections
/// follow at once: a pupil's next write closes their connection with 4003, and pupils who may
/// open it hear of it on `/ws`.
pub fn set_read_only(
    s: &Services,
    who: &Who,
    doc: &str,
    read_only: bool,
) -> Result<String, ServiceError> {
    let resolved = access::managed_doc(s, who, doc)?;
    let name = resolved.name.to_string();
    doc_access::save_settings(s.store.as_ref(), &resolved.name, &DocSettings { read_only })?;
    s.docs.set_read_only(&name, read_only);
    if let Some(lesson_id) = access::lesson_of(s, &resolved)? {
        s.presence.publish(
            &lesson_id,
            LessonEvent::DocSettings {
                doc: name.clone(),
                read_only,
            },
        );
    }
    Ok(name)
}

/// A file name from a person's or class's name: letters (any script), digits and dashes.
pub(super) fn file_stem(raw: &str) -> String {
    let stem: String = raw
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect();
    let stem = stem
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if stem.is_empty() {
        "dokument".into()
    } else {
        stem.chars().take(60).collect()
    }
}

/// "Group" in the export's language, for group documents' titles and file names.
fn group_word(lang: &str) -> &'static str {
    match lang {
        "en" => "group",
        "se" => "joavku",
        _ => "gruppe",
    }
}

/// The title and file name stem of a document: the class name for class documents and notes,
/// the pupil's name for personal ones, class and number for groups.
fn naming(
    store: &dyn Store,
    resolved: &Resolved,
    lang: &str,
) -> Result<(String, String), ServiceError> {
    let class = classes::get(store, &resolved.class_id)?;
    Ok(match (resolved.name.kind(), &resolved.owner_name) {
        (DocKind::Personal, Some(owner)) => (owner.clone(), file_stem(owner)),
        (DocKind::Group, _) => {
            let title = format!(
                "{} {} {}",
                class.name,
                group_word(lang),
                resolved.group_number.unwrap_or_default()
            );
            let stem = file_stem(&title);
            (title, stem)
        }
        (DocKind::Notes, _) => (
            class.name.clone(),
            format!("{}-notes", file_stem(&class.name)),
        ),
        (DocKind::Copy, _) => {
            let mut title = resolved.title.clone().unwrap_or_default();
            if let Some(owner) = &resolved.owner_name {
                title = format!("{title} – {owner}");
            } else if let Some(number) = resolved.group_number {
                title = format!("{title} – {} {number}", group_word(lang));
            }
            let stem = file_stem(&title);
            (title, stem)
        }
        _ => (class.name.clone(), file_stem(&class.name)),
    })
}

/// `YYYY-MM-DD` of a lesson's start (UTC), for the zip's name.
fn lesson_day(ms: u64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp((ms / 1000) as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let d = at.date();
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

fn build_zip(files: Vec<(String, String, Vec<u8>)>, lang: &str) -> Result<Vec<u8>, ServiceError> {
    let zip_error = |e: zip::result::ZipError| ServiceError::Internal(e.to_string());
    let io_error = |e: std::io::Error| ServiceError::Internal(e.to_string());
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut used = std::collections::HashSet::new();
    for (title, stem, snapshot) in files {
        // Two pupils with the same name get distinct files.
        let mut unique = stem.clone();
        let mut n = 2;
        while !used.insert(unique.clone()) {
            unique = format!("{stem}-{n}");
            n += 1;
        }
        for format in [Format::Html, Format::Markdown, Format::Text] {
            let body = export::render(&snapshot, format, &title, lang)?;
            writer
                .start_file(format!("{unique}.{}", format.extension()), options)
                .map_err(zip_error)?;
            writer.write_all(body.as_bytes()).map_err(io_error)?;
        }
    }
    Ok(writer.finish().map_err(zip_error)?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_letters_and_drop_everything_else() {
        assert_eq!(file_stem("Åse Ødegård"), "Åse-Ødegård");
        assert_eq!(file_stem("../../etc/passwd"), "etc-passwd");
        assert_eq!(file_stem("  "), "dokument");
    }
}
