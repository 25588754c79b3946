//! Paired boxes: pairing and unpairing, what each receives, answering a paired box's sync
//! requests, and taking what paired boxes share (the sync worker calls [`sync_all`]).
//!
//! Every box pulls: it asks each paired box for what that box shares with it (class records,
//! then each document's missing updates against its own state vector, then messages after its
//! cursor) and takes them in. Two boxes that share a class with each other both pull, so edits
//! made on either while they could not reach each other end up on both; yrs merges documents,
//! messages keep their origin so none arrives twice.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use hyper::{Method, StatusCode};
use serde::Serialize;

use super::{lessons as lesson_cases, privacy, Services};
use crate::auth::{can, Action, Who};
use crate::channels::message::{self as stored_message, Origin};
use crate::channels::{thread::ThreadId, Draft};
use crate::docs::access as doc_access;
use crate::docs::listing;
use crate::docs::name::DocName;
use crate::docs::room::{update_frame, Person};
use crate::error::ApiError;
use crate::federation::identity::Fingerprint;
use crate::federation::pairs::{self, PairedBox, Progress, Shares};
use crate::federation::trust::{self, CodeCheck, PAIRING_VALID};
use crate::federation::wire::{
    DocState, DocUpdate, DocsAnswer, DocsRequest, Manifest, MessagesAnswer, PairAnswer,
    PairRequest, SharedClass, SharedMessage, MAX_DOCS_PER_REQUEST, MAX_MESSAGES_PER_ANSWER,
};
use crate::federation::{client, FederationError};
use crate::ids::{BoxId, ClassId, LessonId};
use crate::lessons::lesson::{self, Taken};
use crate::lessons::{classes, groups};
use crate::store::Tree;
use crate::validate;

/// Most bytes of document updates in one answer; the asker asks again for the rest.
const DOCS_ANSWER_BUDGET: usize = 8 * 1024 * 1024;
/// The most an answer from another box may be (one answer's budget plus one whole document,
/// base64 and JSON around it).
fn max_answer_bytes(s: &Services) -> usize {
    (DOCS_ANSWER_BUDGET + s.docs.max_doc_bytes()) * 2
}

/// What the teacher reads off this box to pair another with it.
#[derive(Debug, Serialize)]
pub struct PairingCode {
    pub code: String,
    /// This box's fingerprint, grouped for comparing on both screens.
    pub fingerprint: String,
    pub name: String,
    /// The sync port the other box connects to.
    pub port: u16,
    pub valid_minutes: u64,
}

/// A teacher opens pairing: a new one-time code (any earlier one stops working).
pub fn open_pairing(s: &Services, who: &Who) -> Result<PairingCode, ApiError> {
    let Who::Teacher { teacher_id } = who else {
        return Err(forbidden(who));
    };
    if !can(who, Action::PairBoxes) {
        return Err(ApiError::Forbidden);
    }
    let boxes = &s.boxes;
    let code = boxes.trust.open_window(teacher_id);
    tracing::info!("pairing code made; another box may pair for the next 10 minutes");
    Ok(PairingCode {
        code: format!("{}-{}", &code[..5], &code[5..]),
        fingerprint: boxes.identity.fingerprint().grouped(),
        name: boxes.name.clone(),
        port: boxes.port(),
        valid_minutes: PAIRING_VALID.as_secs() / 60,
    })
}

fn forbidden(who: &Who) -> ApiError {
    match who {
        Who::Nobody => ApiError::Unauthenticated,
        _ => ApiError::Forbidden,
    }
}

/// Where the other box is and the code it showed (its fingerprint too, if the teacher typed it).
pub struct PairTarget {
    /// `host:port` of its sync listener.
    pub address: String,
    pub code: String,
    pub fingerprint: Option<Fingerprint>,
}

/// A teacher pairs this box with another that shows a code: this box proves it knows the
/// code, the other proves it too, and both keep each other's certificate.
pub async fn pair_with(
    s: &Services,
    who: &Who,
    target: PairTarget,
) -> Result<PairedView, ApiError> {
    let Who::Teacher { teacher_id } = who else {
        return Err(forbidden(who));
    };
    if !can(who, Action::PairBoxes) {
        return Err(ApiError::Forbidden);
    }
    let code = trust::normalize_code(&target.code);
    if code.len() != 10 {
        return Err(validate::invalid("code", "is ten letters and digits").into());
    }
    let boxes = &s.boxes;
    let own = boxes.identity.fingerprint().clone();
    let config = boxes
        .trust
        .client_config(&boxes.identity, target.fingerprint.clone())?;
    let name = boxes.name.clone();
    let port = boxes.port();
    let answer = client::request_with(
        config,
        &target.address,
        Method::POST,
        "/pair",
        64 * 1024,
        |peer| {
            let request = PairRequest {
                name,
                port,
                proof: peer.map_or_else(String::new, |peer| {
                    trust::proof(&code, "client", &own, peer)
                }),
            };
            serde_json::to_vec(&request).ok()
        },
    )
    .await?;
    let peer = answer
        .peer
        .ok_or_else(|| FederationError::BadAnswer("no certificate".into()))?;
    if answer.status == StatusCode::FORBIDDEN {
        return Err(ApiError::PairingRefused);
    }
    if answer.status != StatusCode::OK {
        return Err(FederationError::BadAnswer(answer.status.to_string()).into());
    }
    let said: PairAnswer = serde_json::from_slice(&answer.body)
        .map_err(|e| FederationError::BadAnswer(e.to_string()))?;
    if !trust::proof_matches(&said.proof, &code, "server", &peer, &own)
        || said.box_id != peer.box_id()
    {
        return Err(ApiError::PairingRefused);
    }
    let paired = PairedBox {
        box_id: peer.box_id(),
        fingerprint: peer.clone(),
        name: validate::name("name", &said.name, validate::CLASS_NAME_MAX)
            .unwrap_or_else(|_| peer.box_id().to_string()),
        address: target.address,
        teacher_id: teacher_id.clone(),
        paired_ms: s.clock.now_ms(),
        shares: Shares::default(),
    };
    pairs::put(s.store.as_ref(), &paired)?;
    boxes.trust.add(peer, paired.box_id.clone());
    boxes.wake.notify_one();
    tracing::info!(box_id = %paired.box_id, "paired with another box (this box entered its code)");
    view(s, paired)
}

/// Another box proves it knows the open pairing code: it is paired, as the teacher's who made
/// the code. Called by the sync listener with the certificate the box showed.
pub fn accept_pairing(
    s: &Services,
    peer: &Fingerprint,
    peer_ip: IpAddr,
    request: PairRequest,
) -> Result<PairAnswer, ApiError> {
    let boxes = &s.boxes;
    let own = boxes.identity.fingerprint();
    if peer == own {
        return Err(ApiError::PairingRefused);
    }
    let name = validate::name("name", &request.name, validate::CLASS_NAME_MAX)?;
    if request.port == 0 {
        return Err(validate::invalid("port", "is not a port").into());
    }
    let checked = boxes
        .trust
        .check_proof(|code| trust::proof_matches(&request.proof, code, "client", peer, own));
    let (code, teacher_id) = match checked {
        CodeCheck::Right { code, teacher_id } => (code, teacher_id),
        CodeCheck::Wrong => {
            tracing::info!(box_id = %peer.box_id(), "a box offered a wrong pairing code");
            return Err(ApiError::PairingRefused);
        }
        CodeCheck::NoWindow => return Err(ApiError::PairingRefused),
    };
    let paired = PairedBox {
        box_id: peer.box_id(),
        fingerprint: peer.clone(),
        name,
        address: std::net::SocketAddr::new(peer_ip, request.port).to_string(),
        teacher_id,
        paired_ms: s.clock.now_ms(),
        shares: Shares::default(),
    };
    pairs::put(s.store.as_ref(), &paired)?;
    boxes.trust.add(peer.clone(), paired.box_id.clone());
    boxes.wake.notify_one();
    tracing::info!(box_id = %paired.box_id, "paired with another box (it entered this box's code)");
    Ok(PairAnswer {
        box_id: boxes.identity.box_id(),
        name: boxes.name.clone(),
        proof: trust::proof(&code, "server", own, peer),
    })
}

/// A teacher unpairs a box: from now on its handshakes fail, requests on connections it still
/// has are refused, and this box stops asking it for anything. Logged.
pub fn unpair(s: &Services, who: &Who, box_id: &BoxId) -> Result<(), ApiError> {
    if !can(who, Action::PairBoxes) {
        return Err(forbidden(who));
    }
    s.boxes.trust.remove(box_id);
    if !pairs::remove(s.store.as_ref(), box_id)? {
        return Err(ApiError::NotFound);
    }
    tracing::info!(%box_id, "unpaired a box: nothing crosses to or from it any more");
    Ok(())
}

/// A teacher chooses what a paired box receives: her own classes (each checked), or
/// everything on this box (a school's backup box).
pub fn set_shares(
    s: &Services,
    who: &Who,
    box_id: &BoxId,
    shares: Shares,
) -> Result<PairedView, ApiError> {
    if !can(who, Action::PairBoxes) {
        return Err(forbidden(who));
    }
    let store = s.store.as_ref();
    let mut paired = pairs::get(store, box_id)?.ok_or(ApiError::NotFound)?;
    let mut chosen = BTreeSet::new();
    for class_id in &shares.classes {
        let class = classes::get(store, class_id)?;
        if !can(
            who,
            Action::ShareClass {
                class_teacher: &class.teacher_id,
            },
        ) {
            return Err(ApiError::Forbidden);
        }
        chosen.insert(class.id);
    }
    // Another teacher's classes stay as she chose them.
    let others: Vec<ClassId> = paired
        .shares
        .classes
        .iter()
        .filter(|c| {
            classes::get(store, c).is_ok_and(|class| {
                !can(
                    who,
                    Action::ShareClass {
                        class_teacher: &class.teacher_id,
                    },
                )
            })
        })
        .cloned()
        .collect();
    chosen.extend(others);
    paired.shares = Shares {
        everything: shares.everything,
        classes: chosen.into_iter().collect(),
    };
    pairs::put(store, &paired)?;
    tracing::info!(%box_id, everything = paired.shares.everything, classes = paired.shares.classes.len(), "what a paired box receives changed");
    s.boxes.wake.notify_one();
    view(s, paired)
}

/// A paired box as the teacher's page shows it.
#[derive(Debug, Serialize)]
pub struct PairedView {
    pub box_id: BoxId,
    pub name: String,
    pub address: String,
    pub fingerprint: String,
    pub paired_ms: u64,
    /// What this box sends it.
    pub shares: Shares,
    /// How far taking what it shares got.
    pub last_sync_ms: Option<u64>,
    pub last_error: Option<String>,
}

fn view(s: &Services, paired: PairedBox) -> Result<PairedView, ApiError> {
    let progress = pairs::progress(s.store.as_ref(), &paired.box_id)?;
    Ok(PairedView {
        fingerprint: paired.fingerprint.grouped(),
        box_id: paired.box_id,
        name: paired.name,
        address: paired.address,
        paired_ms: paired.paired_ms,
        shares: paired.shares,
        last_sync_ms: progress.last_sync_ms,
        last_error: progress.last_error,
    })
}

#[derive(Debug, Serialize)]
pub struct BoxesOverview {
    pub box_id: BoxId,
    pub name: String,
    pub fingerprint: String,
    pub port: u16,
    pub paired: Vec<PairedView>,
}

/// This box and the boxes paired with it, for a teacher.
pub fn overview(s: &Services, who: &Who) -> Result<BoxesOverview, ApiError> {
    if !can(who, Action::PairBoxes) {
        return Err(forbidden(who));
    }
    let paired = pairs::all(s.store.as_ref())?
        .into_iter()
        .map(|p| view(s, p))
        .collect::<Result<_, _>>()?;
    let boxes = &s.boxes;
    Ok(BoxesOverview {
        box_id: boxes.identity.box_id(),
        name: boxes.name.clone(),
        fingerprint: boxes.identity.fingerprint().grouped(),
        port: boxes.port(),
        paired,
    })
}

// ---- Answering a paired box -------------------------------------------------------------

/// Who a connection on the sync listener is: the paired box with that certificate, looked up
/// for every request (an unpaired box's open connection gets nothing more).
pub fn who_is(s: &Services, peer: &Fingerprint) -> Who {
    match s.boxes.trust.box_of(peer) {
        Some(box_id) => Who::PairedBox { box_id },
        None => Who::Nobody,
    }
}

/// What `who` receives: the classes this box shares with it.
fn shares_of(s: &Services, who: &Who) -> Result<Shares, ApiError> {
    let Who::PairedBox { box_id } = who else {
        return Err(ApiError::Forbidden);
    };
    Ok(pairs::get(s.store.as_ref(), box_id)?
        .ok_or(ApiError::Forbidden)?
        .shares)
}

fn may_receive(who: &Who, shares: &Shares, class_id: &ClassId) -> bool {
    can(
        who,
        Action::ReceiveClass {
            shared_with_asker: shares.includes(class_id),
        },
    )
}

/// The classes a paired box receives, with their pupils, lessons and document names, and
/// every tombstone.
pub fn manifest(s: &Services, who: &Who) -> Result<Manifest, ApiError> {
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
pub fn doc_updates(s: &Services, who: &Who, request: DocsRequest) -> Result<DocsAnswer, ApiError> {
    if request.docs.len() > MAX_DOCS_PER_REQUEST {
        return Err(validate::invalid("docs", "names too many documents").into());
    }
    let shares = shares_of(s, who)?;
    let mut answer = DocsAnswer::default();
    let mut spent = 0;
    for wanted in request.docs {
        if spent >= DOCS_ANSWER_BUDGET {
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
            .map_err(|e| ApiError::Invalid(validate::invalid("state_vector", leak_free(&e))))?;
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

fn leak_free(_e: &crate::docs::DocError) -> &'static str {
    "is not a state vector this document can answer"
}

/// Messages of the classes the asker receives, numbered here after `after`, oldest first.
pub fn messages_after(s: &Services, who: &Who, after: u64) -> Result<MessagesAnswer, ApiError> {
    let shares = shares_of(s, who)?;
    let store = s.channels.store();
    let own = s.boxes.identity.box_id();
    let (last, mut numbered) = s
        .channels
        .consistent(|| stored_message::numbered_after(store, after));
    let numbered = numbered
        .as_mut()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    numbered.sort_by_key(|m| m.seq);
    let mut answer = MessagesAnswer {
        next_after: last.max(after),
        ..Default::default()
    };
    let mut lesson_classes: HashMap<LessonId, Option<ClassId>> = HashMap::new();
    for message in numbered.iter() {
        if answer.messages.len() >= MAX_MESSAGES_PER_ANSWER {
            answer.more = true;
            answer.next_after = message.seq - 1;
            break;
        }
        if message.deleted {
            continue;
        }
        let class_id = match ThreadId::parse(&message.thread) {
            Some(ThreadId::PrivateRostered { class_id, .. }) => Some(class_id),
            Some(_) => lesson_classes
                .entry(message.lesson_id.clone())
                .or_insert_with(|| {
                    lesson::get(store, &message.lesson_id)
                        .ok()
                        .map(|l| l.class_id)
                })
                .clone(),
            None => None,
        };
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

// ---- Taking what paired boxes share -----------------------------------------------------

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
                s.boxes
                    .traffic
                    .syncs
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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
    let config = s
        .boxes
        .trust
        .client_config(&s.boxes.identity, Some(other.fingerprint.clone()))?;
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
        let class = &shared.class;
        if known.contains(crate::privacy::class_tombstone_key(&class.id).as_str())
            || store
                .get(
                    Tree::Classes,
                    crate::privacy::class_tombstone_key(&class.id).as_bytes(),
                )?
                .is_some()
        {
            continue;
        }
        let taken =
            take_class(s, other, shared).map_err(|e| FederationError::BadAnswer(e.to_string()))?;
        if taken {
            documents.extend(shared.documents.iter().cloned());
        }
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

/// Takes in one shared class; false if it may not be taken (a tombstoned copy).
fn take_class(s: &Services, other: &PairedBox, shared: &SharedClass) -> Result<bool, ApiError> {
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
        if let Taken::Ended(ended) = lesson::take_copy(store, lesson, &here.teacher_id)? {
            lesson_cases::close(s, &ended)?;
        }
    }
    for formed in &shared.groups {
        if shared.lessons.iter().any(|l| l.id == formed.lesson_id) {
            groups::take_copy(store, formed)?;
        }
    }
    Ok(true)
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
        .connect(&update.name, read_only, person)
        .and_then(|(mut connection, _)| connection.receive(&update_frame(&update.update), true));
    if let Err(e) = applied {
        tracing::warn!(box_id = %other.box_id, "a paired box's document update was refused: {e}");
    }
}

/// Whether a message belongs to a class `other` shares with this box.
fn shared_here(s: &Services, manifest: &Manifest, message: &SharedMessage) -> bool {
    let class_id = match ThreadId::parse(&message.thread) {
        Some(ThreadId::PrivateRostered { class_id, .. }) => Some(class_id),
        Some(_) => lesson::get(s.store.as_ref(), &message.lesson_id)
            .ok()
            .map(|l| l.class_id),
        None => None,
    };
    class_id.is_some_and(|c| manifest.classes.iter().any(|shared| shared.class.id == c))
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
