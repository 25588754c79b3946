//! Taking what paired boxes share: one round asks each paired box for its class records,
//! the document updates this box lacks and the messages after its cursor, and takes them in
//! through the same hubs and deletions as this box's own use-cases.

use std::collections::BTreeSet;
use std::sync::Arc;

use hyper::{Method, StatusCode};

use super::{class_of_thread, config_for};
use crate::channels::message as stored_message;
use crate::channels::thread::ThreadId;
use crate::channels::Draft;
use crate::docs::access as doc_access;
use crate::docs::name::DocName;
use crate::docs::quota::Payer;
use crate::docs::room::{update_frame, Person};
use crate::error::ServiceError;
use crate::ids::ClassId;
use crate::lessons::lesson;
use crate::lessons::{classes, groups};
use crate::service::boxes::federation::pairs::{self, PairedBox, Progress};
use crate::service::boxes::federation::wire::{
    DocState, DocUpdate, DocsAnswer, DocsRequest, Manifest, MessagesAnswer, SharedClass,
    SharedMessage, MAX_DOCS_ANSWER_BYTES, MAX_DOCS_PER_REQUEST,
};
use crate::service::boxes::federation::{client, FederationError};
use crate::service::{lessons as lesson_cases, privacy, Services};
use crate::store::Tree;

/// The most an answer from another box may be (one answer's budget plus one whole document,
/// base64 and JSON around it).
fn max_answer_bytes(s: &Services) -> usize {
    (MAX_DOCS_ANSWER_BYTES + s.docs.max_doc_bytes()) * 2
}

/// One round: asks every paired box for what it shares and takes it in. Each box's outcome is
/// kept for the teacher's page; one unreachable box does not hold up the others.
pub async fn sync_all(s: &Services) {
    let paired = match pairs::all(s.store.as_ref()) {
        Ok(paired) => paired,
        Err(e) => {
            tracing::error!("reading the paired boxes failed: {e}");
            return;
        }
    };
    for other in paired {
        let mut progress = pairs::progress(s.store.as_ref(), &other.box_id).unwrap_or_default();
        match sync_with(s, &other, &mut progress).await {
            Ok(()) => {
                s.boxes.traffic.synced();
                progress.last_sync_ms = Some(s.clock.now_ms());
                progress.last_error = None;
            }
            Err(e) => {
                tracing::debug!(box_id = %other.box_id, "sync failed: {e}");
                progress.last_error = Some(e.code().to_string());
            }
        }
        // Unpaired meanwhile: nothing of it is kept.
        if still_paired(s, &other) {
            if let Err(e) = pairs::save_progress(s.store.as_ref(), &other.box_id, &progress) {
                tracing::error!("keeping the sync's progress failed: {e}");
            }
        }
    }
}

fn still_paired(s: &Services, other: &PairedBox) -> bool {
    s.boxes.trust.box_of(&other.fingerprint).is_some()
}

/// Everything `other` shares, taken in: records first (documents and messages need their
/// lessons), then documents, then messages. Stops between steps if `other` was unpaired.
async fn sync_with(
    s: &Services,
    other: &PairedBox,
    progress: &mut Progress,
) -> Result<(), FederationError> {
    let config = config_for(s, other)?;
    let limit = max_answer_bytes(s);
    let answer = ask(
        s,
        config.clone(),
        &other.address,
        Method::GET,
        "/sync/classes",
        None,
        limit,
    )
    .await?;
    let manifest: Manifest = parse_answer(&answer)?;
    if !still_paired(s, other) {
        return Ok(());
    }
    let documents = take_records(s, other, &manifest).await?;
    let shared: Vec<ClassId> = manifest
        .classes
        .iter()
        .map(|c| c.class.id.clone())
        .collect();
    if shared.iter().any(|c| !progress.classes_seen.contains(c)) {
        progress.messages_after = 0;
    }
    progress.classes_seen = shared;

    for batch in documents.chunks(MAX_DOCS_PER_REQUEST) {
        let mut pending: Vec<String> = batch.to_vec();
        while !pending.is_empty() && still_paired(s, other) {
            let request = DocsRequest {
                docs: pending
                    .iter()
                    .map(|name| DocState {
                        state_vector: s.docs.state_vector_of(name).unwrap_or_default(),
                        name: name.clone(),
                    })
                    .collect(),
            };
            let body = serde_json::to_vec(&request)
                .map_err(|e| FederationError::BadAnswer(e.to_string()))?;
            let answer = ask(
                s,
                config.clone(),
                &other.address,
                Method::POST,
                "/sync/docs",
                Some(body),
                limit,
            )
            .await?;
            let answer: DocsAnswer = parse_answer(&answer)?;
            for update in answer.docs {
                take_update(s, other, &update);
            }
            let answered = answer.answered.clamp(1, pending.len());
            pending.drain(..answered);
        }
    }

    loop {
        if !still_paired(s, other) {
            return Ok(());
        }
        let path = format!("/sync/messages?after={}", progress.messages_after);
        let answer = ask(
            s,
            config.clone(),
            &other.address,
            Method::GET,
            &path,
            None,
            limit,
        )
        .await?;
        let answer: MessagesAnswer = parse_answer(&answer)?;
        let own = s.boxes.identity.box_id();
        for message in answer.messages {
            if message.origin.box_id == own || !shared_here(s, &manifest, &message) {
                continue;
            }
            take_message(s, message).await;
        }
        progress.messages_after = answer.next_after;
        if !answer.more {
            return Ok(());
        }
    }
}

/// One request to a paired box, counted in the box's sync traffic.
async fn ask(
    s: &Services,
    config: Arc<rustls::ClientConfig>,
    address: &str,
    method: Method,
    path: &str,
    body: Option<Vec<u8>>,
    limit: usize,
) -> Result<client::Answer, FederationError> {
    let sent = body.as_ref().map_or(0, Vec::len);
    let answer = client::request(config, address, method, path, body, limit).await?;
    s.boxes.traffic.request(sent, answer.body.len());
    Ok(answer)
}

fn parse_answer<T: serde::de::DeserializeOwned>(
    answer: &client::Answer,
) -> Result<T, FederationError> {
    match answer.status {
        StatusCode::OK => serde_json::from_slice(&answer.body)
            .map_err(|e| FederationError::BadAnswer(e.to_string())),
        StatusCode::FORBIDDEN => Err(FederationError::Refused("not paired there".into())),
        other => Err(FederationError::BadAnswer(other.to_string())),
    }
}

/// Takes in the classes, pupils and lessons `other` shares and applies its tombstones; returns
/// the names of the documents to ask for.
async fn take_records(
    s: &Services,
    other: &PairedBox,
    manifest: &Manifest,
) -> Result<Vec<String>, FederationError> {
    let store = s.store.as_ref();
    let known: BTreeSet<&str> = manifest.tombstones.iter().map(String::as_str).collect();
    let mut documents = Vec::new();
    for shared in &manifest.classes {
        let tombstone = crate::privacy::class_tombstone_key(&shared.class.id);
        if known.contains(tombstone.as_str())
            || store.get(Tree::Classes, tombstone.as_bytes())?.is_some()
        {
            continue;
        }
        take_class(s, other, shared).map_err(|e| FederationError::BadAnswer(e.to_string()))?;
        documents.extend(shared.documents.iter().cloned());
    }
    store.flush()?;
    // Deletions there are deletions here, for the classes it shares or sent us.
    for shared in &manifest.classes {
        for pupil in classes::roster(store, &shared.class.id).unwrap_or_default() {
            let subject_key = crate::privacy::pupil_tombstone_key(&pupil.class_id, &pupil.id);
            if known.contains(subject_key.as_str()) {
                if let Err(e) = privacy::forget_tombstoned_pupil(s, &pupil).await {
                    tracing::error!("deleting a pupil deleted on a paired box failed: {e}");
                }
            }
        }
    }
    for class in classes::all(store).unwrap_or_default() {
        let key = crate::privacy::class_tombstone_key(&class.id);
        let came_from_other =
            pairs::arrived_from(store, &class.id)?.as_ref() == Some(&other.box_id);
        if known.contains(key.as_str()) && came_from_other {
            if let Err(e) = privacy::delete_tombstoned_class(s, &class).await {
                tracing::error!("deleting a class deleted on a paired box failed: {e}");
            }
        }
    }
    Ok(documents)
}

/// Takes in one shared class: the class, its pupils (but none deleted here), lessons and groups.
fn take_class(s: &Services, other: &PairedBox, shared: &SharedClass) -> Result<(), ServiceError> {
    let store = s.store.as_ref();
    let class = &shared.class;
    if classes::take_copy(store, class, &other.teacher_id)? {
        pairs::mark_arrived(store, &class.id, &other.box_id)?;
        tracing::info!(class_id = %class.id, box_id = %other.box_id, "a class arrived from a paired box");
    }
    let here = classes::get(store, &class.id)?;
    for pupil in &shared.pupils {
        if pupil.class_id != class.id {
            continue;
        }
        let tombstone = crate::privacy::pupil_tombstone_key(&pupil.class_id, &pupil.id);
        if store.get(Tree::Classes, tombstone.as_bytes())?.is_some() {
            continue;
        }
        classes::take_pupil_copy(store, pupil)?;
    }
    for lesson in &shared.lessons {
        if lesson.class_id != class.id {
            continue;
        }
        if let Some(ended) = lesson::take_copy(store, lesson, &here.teacher_id)? {
            lesson_cases::close(s, &ended)?;
        }
    }
    for formed in &shared.groups {
        if shared.lessons.iter().any(|l| l.id == formed.lesson_id) {
            groups::take_copy(store, formed)?;
        }
    }
    Ok(())
}

/// Applies a document update from `other` as an edit: everyone who has the document open here
/// sees it, and it is stored like any edit.
fn take_update(s: &Services, other: &PairedBox, update: &DocUpdate) {
    let Some(name) = DocName::parse(&update.name) else {
        return;
    };
    let read_only = doc_access::settings(s.store.as_ref(), &name)
        .map(|settings| settings.read_only)
        .unwrap_or(false);
    let person = Person {
        id: Some(format!("box.{}", other.box_id)),
        name: None,
        role: None,
    };
    let applied = s
        .docs
        // What crosses was paid for on the box it was written on.
        .connect(&update.name, read_only, person, Payer::Teacher)
        .and_then(|(mut connection, _)| connection.receive(&update_frame(&update.update), true));
    if let Err(e) = applied {
        tracing::warn!(box_id = %other.box_id, "a paired box's document update was refused: {e}");
    }
}

/// Whether a message belongs to a class `other` shares with this box (a guest's private
/// thread never does, whatever a paired box sends).
fn shared_here(s: &Services, manifest: &Manifest, message: &SharedMessage) -> bool {
    !ThreadId::stays_on_its_box(&message.thread)
        && class_of_thread(s.store.as_ref(), &message.thread, &message.lesson_id)
            .is_some_and(|c| manifest.classes.iter().any(|shared| shared.class.id == c))
}

async fn take_message(s: &Services, message: SharedMessage) {
    if message.text.chars().count() > stored_message::MAX_TEXT_CHARS {
        return;
    }
    let draft = Draft {
        thread: message.thread,
        lesson_id: message.lesson_id,
        author: message.author,
        kind: message.kind,
        text: message.text,
        doc: message.doc,
        file: None,
        client_id: None,
        origin: Some(message.origin),
    };
    if let Err(e) = s.channels.post(draft).await {
        tracing::warn!("a paired box's message could not be kept: {e}");
    }
}

/// Tells `other` to ask this box now (what it receives changed). Best effort, briefly: a box
/// that cannot be reached asks at its next round anyway.
pub(super) async fn poke(s: &Services, other: &PairedBox) {
    let Ok(config) = config_for(s, other) else {
        return;
    };
    let told = ask(
        s,
        config,
        &other.address,
        Method::POST,
        "/sync/poke",
        None,
        4096,
    );
    if tokio::time::timeout(POKE_WAIT, told).await.is_err() {
        tracing::debug!(box_id = %other.box_id, "a paired box did not hear that its shares changed");
    }
}

/// How long a teacher's "save" waits to tell the other box.
const POKE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
