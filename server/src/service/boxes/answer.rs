//! Answering a paired box: what it receives, the document updates it lacks, the messages after
//! its cursor. Each answer asks `auth::can` for every class.

use std::collections::HashMap;

use super::class_of_thread;
use crate::auth::{can, Action, Who};
use crate::channels::message::{self as stored_message, Origin};
use crate::channels::thread::ThreadId;
use crate::docs::listing;
use crate::docs::name::DocName;
use crate::error::ServiceError;
use crate::ids::{ClassId, LessonId};
use crate::lessons::lesson;
use crate::lessons::{classes, groups};
use crate::service::boxes::federation::identity::Fingerprint;
use crate::service::boxes::federation::pairs::{self, Shares};
use crate::service::boxes::federation::wire::{
    DocUpdate, DocsAnswer, DocsRequest, Manifest, MessagesAnswer, SharedClass, SharedMessage,
    MAX_DOCS_ANSWER_BYTES, MAX_DOCS_PER_REQUEST, MAX_MESSAGES_PER_ANSWER,
};
use crate::service::Services;
use crate::validate;

/// Who a connection on the sync listener is: the paired box with that certificate, looked up
/// for every request (an unpaired box's open connection gets nothing more).
pub fn who_is(s: &Services, peer: &Fingerprint) -> Who {
    match s.boxes.trust.box_of(peer) {
        Some(box_id) => Who::PairedBox { box_id },
        None => Who::Nobody,
    }
}

/// What `who` receives: the classes this box shares with it.
pub(super) fn shares_of(s: &Services, who: &Who) -> Result<Shares, ServiceError> {
    let Who::PairedBox { box_id } = who else {
        return Err(ServiceError::Forbidden);
    };
    Ok(pairs::get(s.store.as_ref(), box_id)?
        .ok_or(ServiceError::Forbidden)?
        .shares)
}

pub(super) fn may_receive(who: &Who, shares: &Shares, class_id: &ClassId) -> bool {
    can(
        who,
        Action::ReceiveClass {
            shared_with_asker: shares.includes(class_id),
        },
    )
}

/// The classes a paired box receives, with their pupils, lessons and document names, and
/// every tombstone.
pub fn manifest(s: &Services, who: &Who) -> Result<Manifest, ServiceError> {
    let shares = shares_of(s, who)?;
    let store = s.store.as_ref();
    let mut manifest = Manifest::default();
    for class in classes::all(store)? {
        if !may_receive(who, &shares, &class.id) {
            continue;
        }
        let pupils = classes::roster(store, &class.id)?;
        let lessons = lesson::of_class(store, &class.id)?;
        let mut names = Vec::new();
        let mut formed = Vec::new();
        for lesson in &lessons {
            names.push(DocName::LessonClass {
                lesson_id: lesson.id.clone(),
            });
            names.push(DocName::TeacherNotes {
                lesson_id: lesson.id.clone(),
            });
            for group in groups::formed_in(store, &lesson.id)? {
                names.push(DocName::Group {
                    lesson_id: lesson.id.clone(),
                    group_id: group.group.id.clone(),
                });
                formed.push(group);
            }
        }
        for pupil in &pupils {
            names.push(DocName::PupilOwn {
                class_id: class.id.clone(),
                pupil_id: pupil.id.clone(),
            });
        }
        let documents = listing::resolve_existing(store, names)?
            .into_iter()
            .map(|r| r.name.to_string())
            .collect();
        manifest.classes.push(SharedClass {
            class,
            pupils,
            lessons,
            groups: formed,
            documents,
        });
    }
    manifest.tombstones = crate::lessons::privacy::tombstones(store)?;
    Ok(manifest)
}

/// The class a document belongs to, if it is of a kind that crosses between boxes.
fn class_of_doc(s: &Services, name: &DocName) -> Option<ClassId> {
    match name {
        DocName::LessonClass { lesson_id }
        | DocName::TeacherNotes { lesson_id }
        | DocName::Group { lesson_id, .. } => lesson::get(s.store.as_ref(), lesson_id)
            .ok()
            .map(|l| l.class_id),
        DocName::PupilOwn { class_id, .. } => Some(class_id.clone()),
        _ => None,
    }
}

/// For each named document the asker receives, what this box has beyond the asker's state
/// vector; documents where it lacks nothing are left out.
pub fn doc_updates(
    s: &Services,
    who: &Who,
    request: DocsRequest,
) -> Result<DocsAnswer, ServiceError> {
    if request.docs.len() > MAX_DOCS_PER_REQUEST {
        return Err(validate::invalid("docs", "names too many documents").into());
    }
    let shares = shares_of(s, who)?;
    let mut answer = DocsAnswer::default();
    let mut spent = 0;
    for wanted in request.docs {
        if spent >= MAX_DOCS_ANSWER_BYTES {
            break;
        }
        answer.answered += 1;
        let name = DocName::parse(&wanted.name)
            .ok_or_else(|| validate::invalid("name", "is not a document name"))?;
        let Some(class_id) = class_of_doc(s, &name) else {
            continue;
        };
        if !may_receive(who, &shares, &class_id) {
            continue;
        }
        let update = s
            .docs
            .diff_since(&wanted.name, &wanted.state_vector)
            .map_err(|_| {
                validate::invalid(
                    "state_vector",
                    "is not a state vector this document can answer",
                )
            })?;
        if crate::docs::room::is_empty_update(&update) {
            continue;
        }
        spent += update.len();
        answer.docs.push(DocUpdate {
            name: wanted.name,
            update,
        });
    }
    Ok(answer)
}

/// Messages of the classes the asker receives, numbered here after `after`, oldest first.
pub fn messages_after(s: &Services, who: &Who, after: u64) -> Result<MessagesAnswer, ServiceError> {
    let shares = shares_of(s, who)?;
    let store = s.channels.store();
    let own = s.boxes.identity.box_id();
    let (last, numbered) = s
        .channels
        .consistent(|| stored_message::numbered_after(store, after));
    let mut numbered = numbered.map_err(|e| ServiceError::Internal(e.to_string()))?;
    numbered.sort_by_key(|m| m.seq);
    let mut answer = MessagesAnswer {
        next_after: last.max(after),
        ..Default::default()
    };
    // Many messages share a thread: each thread's class is looked up once.
    let mut lesson_classes: HashMap<(String, LessonId), Option<ClassId>> = HashMap::new();
    for message in numbered.iter() {
        if answer.messages.len() >= MAX_MESSAGES_PER_ANSWER {
            answer.more = true;
            answer.next_after = message.seq - 1;
            break;
        }
        // A guest's private thread stays on the box it was written on: only class-list
        // threads, announcements and chats cross (docs/PRIVACY.md).
        if message.deleted || ThreadId::stays_on_its_box(&message.thread) {
            continue;
        }
        let class_id = lesson_classes
            .entry((message.thread.clone(), message.lesson_id.clone()))
            .or_insert_with(|| class_of_thread(store, &message.thread, &message.lesson_id))
            .clone();
        if !class_id.is_some_and(|c| may_receive(who, &shares, &c)) {
            continue;
        }
        answer.messages.push(SharedMessage {
            origin: message.origin.clone().unwrap_or(Origin {
                box_id: own.clone(),
                seq: message.seq,
                at_ms: message.at_ms,
            }),
            thread: message.thread.clone(),
            lesson_id: message.lesson_id.clone(),
            author: message.author.clone(),
            kind: message.kind,
            text: message.text.clone(),
            doc: message.doc.clone(),
        });
    }
    Ok(answer)
}

/// A paired box says it changed what it shares with this one: this box asks it now.
pub fn poked(s: &Services, who: &Who) -> Result<(), ServiceError> {
    if !matches!(who, Who::PairedBox { .. }) {
        return Err(ServiceError::Forbidden);
    }
    s.boxes.wake.notify_one();
    Ok(())
}
