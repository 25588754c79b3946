//! One shared document and its awareness (cursors, names), speaking y-protocols. No sockets
//! here: bytes in, bytes out, so the protocol is tested and fuzzed without a server.
//!
//! A room whose document nobody has synced or edited for a while can [`Room::sleep`]: it keeps
//! the document as one encoded update (a few KiB instead of ~150 bytes per yrs item) and only
//! the awareness states live, and wakes on the next sync message. Cursor traffic, which goes
//! on while people merely look, does not wake it.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use yrs::encoding::read::Cursor;
use yrs::sync::protocol::{MessageReader, MSG_SYNC, MSG_SYNC_UPDATE};
use yrs::sync::{Awareness, AwarenessUpdate, Message, SyncMessage};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{Doc, OffsetKind, Options, ReadTxn, StateVector, Transact, Update};

use super::{bounds, DocError};

/// A connection speaks for at most this many awareness clients (y-websocket uses one; a few
/// allow an editor that keeps more than one document in one page).
pub const MAX_AWARENESS_CLIENTS: usize = 4;

/// Who a connection is, from its sign-in: what its cursor shows, whatever the client claims.
#[derive(Debug, Clone, Default)]
pub struct Person {
    /// Stable for one person (a teacher, a pupil in a lesson): a reconnecting page of the same
    /// person may take over its own awareness client id; nobody else may.
    pub id: Option<String>,
    /// Set as `user.name` in every awareness state the connection sends.
    pub name: Option<String>,
    /// Set as `user.role` likewise (`teacher`, `pupil`).
    pub role: Option<&'static str>,
}

/// What one connection has told the room: the awareness clients it speaks for, so they can be
/// removed for everyone when it goes away, and who it is.
#[derive(Debug)]
pub struct Peer {
    /// This connection, among all connections of the box.
    key: u64,
    awareness_clients: HashSet<u64>,
    person: Person,
}

static NEXT_PEER: AtomicU64 = AtomicU64::new(1);

impl Peer {
    pub fn new(person: Person) -> Self {
        Self {
            key: NEXT_PEER.fetch_add(1, Ordering::Relaxed),
            awareness_clients: HashSet::new(),
            person,
        }
    }
}

impl Default for Peer {
    /// A connection of nobody in particular (tests, tools): it owns only what it sets.
    fn default() -> Self {
        Self::new(Person::default())
    }
}

/// Which connection speaks for an awareness client id, and whose it is.
#[derive(Debug, Clone)]
struct Owner {
    peer: u64,
    person: Option<String>,
}

/// What handling a client's frame produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Frames for the sender only (sync step 2, awareness answers).
    pub reply: Vec<Vec<u8>>,
    /// Frames for every other connection of the document.
    pub broadcast: Vec<Vec<u8>>,
    /// Awareness clients whose state changed. The hub tells every connection (the sender
    /// included: y-websocket takes the echo of its own renewal as a sign of life), coalesced.
    pub awareness: Vec<u64>,
    /// Document updates (lib0 v1) to persist, in order.
    pub updates: Vec<Vec<u8>>,
}

/// A frame that passed [`Room::check`]: its messages, and the bytes of document updates they
/// carry (what the document would grow by, at most).
pub struct Checked {
    messages: Vec<Message>,
    pub incoming: usize,
}

/// Filled by a document's update observer during a transaction: exactly what changed.
type Changes = Arc<Mutex<Vec<Vec<u8>>>>;

pub struct Room {
    /// The awareness states and, while awake, the document (asleep: an empty stand-in).
    awareness: Awareness,
    changes: Changes,
    /// Bytes of updates held (stored snapshot and log); a cheap bound on document size.
    size: usize,
    /// While asleep: the whole document as one update (lib0 v1).
    asleep: Option<Vec<u8>>,
    /// The last sync message (or waking).
    last_sync: Instant,
    /// Awareness client id → the connection that speaks for it.
    owners: HashMap<u64, Owner>,
    /// Awareness client id → the person who used it first, for the room's life: while their
    /// page reconnects, nobody else can take it (a pupil posing as the teacher's cursor).
    first_claims: HashMap<u64, String>,
}

/// A fresh document with UTF-16 offsets, as JavaScript counts them, so indexes agree with
/// browser editors.
fn new_doc() -> Doc {
    Doc::with_options(Options {
        offset_kind: OffsetKind::Utf16,
        ..Options::default()
    })
}

/// A document holding `stored` (a snapshot and logged updates), with an observer that collects
/// every later change; and the stored size.
fn observed_doc<'a>(
    stored: impl IntoIterator<Item = &'a [u8]>,
) -> Result<(Doc, Changes, usize), DocError> {
    let doc = new_doc();
    let mut size = 0;
    {
        let mut txn = doc.transact_mut();
        for bytes in stored {
            size += bytes.len();
            let update = Update::decode_v1(bytes).map_err(|e| DocError::Corrupt(e.to_string()))?;
            txn.apply_update(update)
                .map_err(|e| DocError::Corrupt(e.to_string()))?;
        }
    }
    let changes: Changes = Arc::default();
    let sink = changes.clone();
    doc.observe_update_v1("tavla-room", move |_, event| {
        sink.lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event.update.clone());
    })
    .map_err(|e| DocError::Corrupt(e.to_string()))?;
    Ok((doc, changes, size))
}

/// Whether an encoded update (lib0 v1) carries nothing: no items, no deletions.
pub fn is_empty_update(update: &[u8]) -> bool {
    Update::decode_v1(update).is_ok_and(|u| u.is_empty())
}

/// Encodes a document update as a y-protocols sync "update" frame.
pub fn update_frame(update: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(update.len() + 4);
    frame.push(MSG_SYNC);
    frame.push(MSG_SYNC_UPDATE);
    write_var_buf(&mut frame, update);
    frame
}

fn write_var_buf(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut len = bytes.len();
    while len >= 0x80 {
        out.push((len as u8 & 0x7f) | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
    out.extend_from_slice(bytes);
}

impl Room {
    /// A room with the stored state (a snapshot and logged updates, lib0 v1).
    pub fn load<'a>(stored: impl IntoIterator<Item = &'a [u8]>) -> Result<Self, DocError> {
        let (doc, changes, size) = observed_doc(stored)?;
        Ok(Self {
            awareness: Awareness::new(doc),
            changes,
            size,
            asleep: None,
            last_sync: Instant::now(),
            owners: HashMap::new(),
            first_claims: HashMap::new(),
        })
    }

    /// The first frames a new connection gets: our state vector (sync step 1), and everyone's
    /// awareness so the newcomer sees who is here.
    pub fn greeting(&mut self) -> Result<Vec<Vec<u8>>, DocError> {
        self.wake()?;
        let sv = self.awareness.doc().transact().state_vector();
        let mut frames = vec![Message::Sync(SyncMessage::SyncStep1(sv)).encode_v1()];
        if let Ok(update) = self.awareness.update() {
            if !update.clients.is_empty() {
                frames.push(Message::Awareness(update).encode_v1());
            }
        }
        Ok(frames)
    }

    pub fn is_asleep(&self) -> bool {
        self.asleep.is_some()
    }

    /// How long since the last sync message (or waking).
    pub fn idle_for(&self) -> Duration {
        self.last_sync.elapsed()
    }

    /// Keeps the document as one encoded update and frees its items; awareness stays live.
    pub fn sleep(&mut self) {
        if self.asleep.is_some() {
            return;
        }
        let state = self.snapshot();
        self.move_awareness_to(Awareness::new(new_doc()));
        self.changes = Arc::default();
        self.size = state.len();
        self.asleep = Some(state);
    }

    /// Loads the document back from its encoded state, if it sleeps.
    fn wake(&mut self) -> Result<(), DocError> {
        self.last_sync = Instant::now();
        let Some(state) = self.asleep.take() else {
            return Ok(());
        };
        match observed_doc([state.as_slice()]) {
            Ok((doc, changes, _)) => {
                self.move_awareness_to(Awareness::new(doc));
                self.changes = changes;
                Ok(())
            }
            Err(e) => {
                self.asleep = Some(state);
                Err(e)
            }
        }
    }

    /// Replaces the awareness (and with it the document), keeping everyone's states.
    fn move_awareness_to(&mut self, mut fresh: Awareness) {
        if let Ok(states) = self.awareness.update() {
            if !states.clients.is_empty() {
                // States from our own encoding; they apply to an empty awareness as they are.
                let _ = fresh.apply_update(states);
            }
        }
        self.awareness = fresh;
    }

    /// Handles one binary frame (possibly several messages) from `peer`: [`Room::check`],
    /// then [`Room::apply`].
    pub fn receive(
        &mut self,
        peer: &mut Peer,
        frame: &[u8],
        may_write: bool,
        max_doc_bytes: usize,
    ) -> Result<Outcome, DocError> {
        let checked = self.check(peer, frame, may_write, max_doc_bytes)?;
        self.apply(peer, checked)
    }

    /// Checks a frame without changing anything. Refuses the whole frame if it is malformed,
    /// writes when the peer may not, builds on edits the document does not have, or would
    /// grow the document past `max_doc_bytes`.
    pub fn check(
        &mut self,
        peer: &Peer,
        frame: &[u8],
        may_write: bool,
        max_doc_bytes: usize,
    ) -> Result<Checked, DocError> {
        let mut messages = decode_frame(frame)?;
        // What the document holds, advanced by each update of the frame in turn.
        let mut known: Option<StateVector> = None;
        for message in &mut messages {
            if let Message::Custom(tag, _) = message {
                return Err(DocError::Malformed(format!("unknown message type {tag}")));
            }
            if let Message::Awareness(update) = message {
                self.keep_to_own(peer, update)?;
                sign_states(update, &peer.person)?;
            }
            if let Some(update) = carried_update(message)? {
                if !update.is_empty() && !may_write {
                    return Err(DocError::ReadOnly);
                }
                let known = match &mut known {
                    Some(known) => known,
                    None => known.insert(self.state_vector()?),
                };
                builds_on_known(&update, known)?;
            }
        }
        let incoming: usize = messages.iter().map(update_len).sum();
        if self.size + incoming > max_doc_bytes {
            return Err(DocError::TooLarge);
        }
        Ok(Checked { messages, incoming })
    }

    /// Applies a checked frame.
    pub fn apply(&mut self, peer: &mut Peer, checked: Checked) -> Result<Outcome, DocError> {
        let mut outcome = Outcome::default();
        for message in checked.messages {
            self.handle(peer, message, &mut outcome)?;
        }
        Ok(outcome)
    }

    fn handle(
        &mut self,
        peer: &mut Peer,
        message: Message,
        out: &mut Outcome,
    ) -> Result<(), DocError> {
        if let Message::Sync(_) = message {
            self.wake()?;
        }
        match message {
            Message::Sync(SyncMessage::SyncStep1(sv)) => {
                // What the document holds, without anything yrs keeps pending (see snapshot).
                let update = self.awareness.doc().transact().encode_diff_v1(&sv);
                out.reply
                    .push(Message::Sync(SyncMessage::SyncStep2(update)).encode_v1());
            }
            Message::Sync(SyncMessage::SyncStep2(bytes) | SyncMessage::Update(bytes)) => {
                let update =
                    Update::decode_v1(&bytes).map_err(|e| DocError::Malformed(e.to_string()))?;
                self.awareness
                    .doc()
                    .transact_mut()
                    .apply_update(update)
                    .map_err(|e| DocError::Malformed(e.to_string()))?;
                let changes =
                    std::mem::take(&mut *self.changes.lock().unwrap_or_else(|p| p.into_inner()));
                for change in changes {
                    self.size += change.len();
                    out.broadcast.push(update_frame(&change));
                    out.updates.push(change);
                }
            }
            Message::AwarenessQuery => {
                let update = self
                    .awareness
                    .update()
                    .map_err(|e| DocError::Malformed(e.to_string()))?;
                out.reply.push(Message::Awareness(update).encode_v1());
            }
            Message::Awareness(update) => {
                for (client, entry) in &update.clients {
                    let id = client.get();
                    if &*entry.json == "null" {
                        peer.awareness_clients.remove(&id);
                        if self.owners.get(&id).is_some_and(|o| o.peer == peer.key) {
                            self.owners.remove(&id);
                        }
                    } else {
                        peer.awareness_clients.insert(id);
                        let owner = Owner {
                            peer: peer.key,
                            person: peer.person.id.clone(),
                        };
                        self.owners.insert(id, owner);
                        if let Some(person) = &peer.person.id {
                            self.first_claims
                                .entry(id)
                                .or_insert_with(|| person.clone());
                        }
                    }
                }
                out.awareness
                    .extend(update.clients.keys().map(|client| client.get()));
                self.awareness
                    .apply_update(update)
                    .map_err(|e| DocError::Malformed(e.to_string()))?;
            }
            // y-websocket clients never send auth; a permission decision is the server's.
            Message::Auth(_) => {}
            // Refused in `receive` before anything was applied.
            Message::Custom(..) => {}
        }
        Ok(())
    }

    /// One awareness frame with the current states of `clients` (unknown ones are skipped).
    pub fn awareness_frame(&self, clients: impl IntoIterator<Item = u64>) -> Option<Vec<u8>> {
        let known: Vec<yrs::block::ClientID> = clients
            .into_iter()
            .map(yrs::block::ClientID::new)
            .filter(|id| self.awareness.meta(*id).is_some())
            .collect();
        if known.is_empty() {
            return None;
        }
        let update = self.awareness.update_with_clients(known).ok()?;
        Some(Message::Awareness(update).encode_v1())
    }

    /// The document's state vector, awake or asleep.
    fn state_vector(&self) -> Result<StateVector, DocError> {
        match &self.asleep {
            Some(state) => Update::decode_v1(state)
                .map(|u| u.state_vector())
                .map_err(|e| DocError::Corrupt(e.to_string())),
            None => Ok(self.awareness.doc().transact().state_vector()),
        }
    }

    /// Keeps a connection to its own awareness clients. y-websocket clients pass on every
    /// awareness change they receive, others' included; such a relay carries a state the room
    /// already has (its clock is not newer) and is dropped here, changing nothing. A newer
    /// state (or removal) for a client id another connection speaks for is refused — unless
    /// that connection is the same person's (a page that reconnected) — and so is speaking
    /// for more clients than a connection may.
    fn keep_to_own(&self, peer: &Peer, update: &mut AwarenessUpdate) -> Result<(), DocError> {
        let mut relayed = Vec::new();
        for (client, entry) in &update.clients {
            let id = client.get();
            let someone_elses = match (self.first_claims.get(&id), &peer.person.id) {
                (Some(first), Some(me)) => first != me,
                (Some(_), None) => true,
                (None, _) => false,
            };
            let held_by_other = self.owners.get(&id).is_some_and(|owner| {
                let same_person = owner.person.is_some() && owner.person == peer.person.id;
                owner.peer != peer.key && !same_person
            });
            if !someone_elses && !held_by_other {
                continue;
            }
            let known = self.awareness.meta(*client).map(|(clock, _)| clock);
            if known.is_some_and(|clock| entry.clock <= clock) {
                relayed.push(*client);
            } else {
                return Err(DocError::NotYours);
            }
        }
        for client in relayed {
            update.clients.remove(&client);
        }
        let mut speaks_for = peer.awareness_clients.clone();
        speaks_for.extend(
            update
                .clients
                .iter()
                .filter(|(_, entry)| &*entry.json != "null")
                .map(|(client, _)| client.get()),
        );
        if speaks_for.len() > MAX_AWARENESS_CLIENTS {
            return Err(DocError::NotYours);
        }
        Ok(())
    }

    /// Forgets `peer`'s awareness clients (those another page of the same person has not
    /// taken over); returns the frame telling everyone else.
    pub fn leave(&mut self, peer: &Peer) -> Option<Vec<u8>> {
        let ids: Vec<yrs::block::ClientID> = peer
            .awareness_clients
            .iter()
            .filter(|id| self.owners.get(id).is_some_and(|o| o.peer == peer.key))
            .map(|&id| yrs::block::ClientID::new(id))
            .collect();
        if ids.is_empty() {
            return None;
        }
        for id in &ids {
            self.owners.remove(&id.get());
        }
        for id in &ids {
            self.awareness.remove_state(*id);
        }
        let update = self.awareness.update_with_clients(ids).ok()?;
        Some(Message::Awareness(update).encode_v1())
    }

    /// The whole document as one update (lib0 v1): a snapshot.
    ///
    /// Edits yrs keeps "pending" (they build on something the document never received) are
    /// left out: they show nowhere, and yrs 0.28 cannot always merge them back into a whole-
    /// document encoding (it panics; found by fuzzing), which would take compaction, sleeping
    /// or the shutdown flush down with it.
    pub fn snapshot(&self) -> Vec<u8> {
        match &self.asleep {
            Some(state) => state.clone(),
            None => self
                .awareness
                .doc()
                .transact()
                .encode_diff_v1(&StateVector::default()),
        }
    }

    /// The state vector, encoded (lib0 v1).
    pub fn state_vector_bytes(&self) -> Result<Vec<u8>, DocError> {
        Ok(self.state_vector()?.encode_v1())
    }

    /// Everything the document holds beyond `state_vector` (lib0 v1), as one update.
    pub fn diff_since(&mut self, state_vector: &[u8]) -> Result<Vec<u8>, DocError> {
        let sv =
            StateVector::decode_v1(state_vector).map_err(|e| DocError::Malformed(e.to_string()))?;
        self.wake()?;
        Ok(self.awareness.doc().transact().encode_diff_v1(&sv))
    }

    /// A sync step 2 with the whole document, for a connection that fell behind.
    pub fn catch_up_frame(&self) -> Vec<u8> {
        Message::Sync(SyncMessage::SyncStep2(self.snapshot())).encode_v1()
    }

    #[cfg(test)]
    fn doc(&self) -> &Doc {
        self.awareness.doc()
    }
}

fn decode_frame(frame: &[u8]) -> Result<Vec<Message>, DocError> {
    if frame.is_empty() {
        return Err(DocError::Malformed("empty frame".into()));
    }
    bounds::check_claimed_counts(frame)?;
    let mut decoder = DecoderV1::new(Cursor::new(frame));
    let messages: Vec<Message> = MessageReader::new(&mut decoder)
        .map(|m| m.map_err(|e| DocError::Malformed(e.to_string())))
        .collect::<Result<_, _>>()?;
    // The reader stops quietly at a truncated message; re-encoding tells whether every byte
    // of the frame was understood.
    let understood: usize = messages.iter().map(|m| m.encode_v1().len()).sum();
    if messages.is_empty() || understood != frame.len() {
        return Err(DocError::Malformed(
            "truncated message or trailing bytes".into(),
        ));
    }
    Ok(messages)
}

/// Refuses an update that builds on edits the document does not have — a gap in one client's
/// sequence, or deletions of items it has never seen — and advances `known` by what it
/// inserts. yrs would keep such an update "pending", and yrs 0.28 cannot always encode a
/// document that holds one (found by fuzzing: the snapshot panics, in compaction, sleeping and
/// the shutdown flush). Over one ordered connection no y-websocket client sends one.
fn builds_on_known(update: &Update, known: &mut StateVector) -> Result<(), DocError> {
    let gap =
        || DocError::Malformed("the update builds on edits this document does not have".into());
    for (client, ranges) in update.insertions(true).iter() {
        let mut next = known.get(client);
        let mut spans: Vec<_> = ranges.iter().cloned().collect();
        spans.sort_by_key(|r| r.start);
        for span in spans {
            if span.start > next {
                return Err(gap());
            }
            next = next.max(span.end);
        }
        known.set_max(*client, next);
    }
    for (client, ranges) in update.delete_set().iter() {
        if ranges.iter().any(|r| r.end > known.get(client)) {
            return Err(gap());
        }
    }
    Ok(())
}

/// The update a sync message carries, decoded (to tell empty sync replies from writes).
///
/// An update yrs decodes but cannot encode back into something it decodes again is refused:
/// yrs 0.28 reads some malformed content (an unknown content kind in a map entry) into a
/// form it then writes as bytes it cannot read. Applied, it would be stored, and the
/// document would no longer load after a restart (found by fuzzing).
fn carried_update(message: &Message) -> Result<Option<Update>, DocError> {
    match message {
        Message::Sync(SyncMessage::SyncStep2(bytes) | SyncMessage::Update(bytes)) => {
            let update =
                Update::decode_v1(bytes).map_err(|e| DocError::Malformed(e.to_string()))?;
            if Update::decode_v1(&update.encode_v1()).is_err() {
                return Err(DocError::Malformed(
                    "the update holds content that cannot be stored".into(),
                ));
            }
            Ok(Some(update))
        }
        _ => Ok(None),
    }
}

fn update_len(message: &Message) -> usize {
    match message {
        Message::Sync(SyncMessage::SyncStep2(bytes) | SyncMessage::Update(bytes)) => bytes.len(),
        _ => 0,
    }
}

/// Checks that every awareness state is JSON (other clients JSON.parse each one; one that is
/// not would break them) and, for a signed-in peer, sets `user.name` and `user.role` to who
/// they are (states without a `user` object, and the `null` of a client leaving, stay as
/// they are).
fn sign_states(update: &mut AwarenessUpdate, person: &Person) -> Result<(), DocError> {
    for entry in update.clients.values_mut() {
        let mut state: serde_json::Value = serde_json::from_str(&entry.json)
            .map_err(|_| DocError::Malformed("awareness state is not JSON".into()))?;
        let Some(user) = state
            .get_mut("user")
            .and_then(serde_json::Value::as_object_mut)
        else {
            continue;
        };
        if let Some(name) = &person.name {
            user.insert("name".into(), name.as_str().into());
        }
        if let Some(role) = person.role {
            user.insert("role".into(), role.into());
        }
        entry.json = state.to_string().into();
    }
    Ok(())
}

/// Decodes an awareness update frame's clients (for tests and tools).
pub fn awareness_clients(frame: &[u8]) -> Vec<u64> {
    match decode_frame(frame).ok().and_then(|m| m.into_iter().next()) {
        Some(Message::Awareness(AwarenessUpdate { clients })) => {
            clients.keys().map(|c| c.get()).collect()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::AssertUnwindSafe;
    use yrs::{GetString, Text};

    const MAX: usize = 1 << 20;

    /// A client document that talks to the room through frames, as y-websocket would.
    fn client_edit(text: &str) -> Vec<u8> {
        let doc = Doc::with_options(Options {
            offset_kind: OffsetKind::Utf16,
            ..Options::default()
        });
        let t = doc.get_or_insert_text("t");
        t.insert(&mut doc.transact_mut(), 0, text);
        let update = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        update_frame(&update)
    }

    fn text_of(room: &Room) -> String {
        let t = room.doc().get_or_insert_text("t");
        t.get_string(&room.doc().transact())
    }

    /// Found by fuzzing: yrs reads this update (a map entry whose content kind does not
    /// exist) but writes it back as bytes it cannot read; stored, the document would never
    /// load again. The room refuses it and stays loadable.
    #[test]
    fn an_update_that_would_be_stored_unreadably_is_refused() {
        let frame: &[u8] = &[
            0, 1, 31, 1, 1, 4, 0, 50, 1, 2, 0, 0, 1, 0, 1, 2, 0, 0, 0, 0, 0, 0, 32, 0, 31, 1, 31,
            1, 3, 3, 3, 3, 3, 3, 3, 3,
        ];
        let mut room = Room::load([]).unwrap();
        let before = room.snapshot();
        let result = room.receive(&mut Peer::default(), frame, true, MAX);
        assert!(matches!(result, Err(DocError::Malformed(_))), "{result:?}");
        assert_eq!(room.snapshot(), before);
        assert!(Room::load([room.snapshot().as_slice()]).is_ok());
    }

    #[test]
    fn an_update_is_applied_broadcast_and_kept() {
        let mut room = Room::load([]).unwrap();
        let mut peer = Peer::default();
        let outcome = room
            .receive(&mut peer, &client_edit("hei 👋"), true, MAX)
            .unwrap();
        assert_eq!(text_of(&room), "hei 👋");
        assert_eq!(outcome.broadcast.len(), 1);
        assert_eq!(outcome.updates.len(), 1);
        assert!(outcome.reply.is_empty());

        let again = Room::load([room.snapshot().as_slice()]).unwrap();
        assert_eq!(
            text_of(&again),
            "hei 👋",
            "a snapshot restores the document"
        );
    }

    /// Ada's cursor in the room, as her client would send it.
    fn ada_is_here(room: &mut Room, peer: &mut Peer) {
        let mut theirs = Awareness::new(Doc::with_client_id(77));
        theirs
            .set_local_state(serde_json::json!({ "user": { "name": "Ada" } }))
            .unwrap();
        let frame = Message::Awareness(theirs.update().unwrap()).encode_v1();
        room.receive(peer, &frame, false, MAX).unwrap();
    }

    #[test]
    fn a_sleeping_room_keeps_text_and_cursors_and_wakes_on_sync() {
        let mut room = Room::load([]).unwrap();
        let mut ada = Peer::default();
        room.receive(&mut ada, &client_edit("hei"), true, MAX)
            .unwrap();
        ada_is_here(&mut room, &mut ada);
        let before = room.snapshot();

        room.sleep();
        assert!(room.is_asleep());
        assert_eq!(
            room.snapshot(),
            before,
            "the state it sleeps as is the document"
        );
        assert_eq!(text_of(&room), "", "no items in memory");
        // Cursors go on without waking it.
        assert!(room.awareness_frame([77]).is_some());
        ada_is_here(&mut room, &mut ada);
        assert!(room.is_asleep());

        // A newcomer's sync wakes it with everything.
        let step1 = Message::Sync(SyncMessage::SyncStep1(StateVector::default())).encode_v1();
        let outcome = room
            .receive(&mut Peer::default(), &step1, false, MAX)
            .unwrap();
        assert!(!room.is_asleep());
        assert_eq!(text_of(&room), "hei");
        let newcomer = Doc::new();
        let Ok(Message::Sync(SyncMessage::SyncStep2(update))) =
            Message::decode_v1(&outcome.reply[0])
        else {
            panic!("a sync step 2");
        };
        newcomer
            .transact_mut()
            .apply_update(Update::decode_v1(&update).unwrap())
            .unwrap();
        let t = newcomer.get_or_insert_text("t");
        assert_eq!(t.get_string(&newcomer.transact()), "hei");
        assert!(room.awareness_frame([77]).is_some(), "cursors kept");
    }

    #[test]
    fn an_edit_wakes_a_sleeping_room_and_is_broadcast_once() {
        let mut room = Room::load([]).unwrap();
        room.receive(&mut Peer::default(), &client_edit("a"), true, MAX)
            .unwrap();
        room.sleep();
        let outcome = room
            .receive(&mut Peer::default(), &client_edit("b"), true, MAX)
            .unwrap();
        assert_eq!(outcome.updates.len(), 1, "only the new edit is logged");
        assert_eq!(outcome.broadcast.len(), 1);
        let text = text_of(&room);
        assert!(text == "ab" || text == "ba", "{text}");
        assert!(room.greeting().is_ok());
    }

    #[test]
    fn sync_step_1_is_answered_with_what_the_client_lacks() {
        let mut room = Room::load([]).unwrap();
        room.receive(&mut Peer::default(), &client_edit("abc"), true, MAX)
            .unwrap();
        let step1 = Message::Sync(SyncMessage::SyncStep1(StateVector::default())).encode_v1();
        let outcome = room
            .receive(&mut Peer::default(), &step1, false, MAX)
            .unwrap();
        assert_eq!(outcome.reply.len(), 1);
        assert!(outcome.broadcast.is_empty(), "reading changes nothing");
    }

    #[test]
    fn read_only_peers_may_sync_but_not_write() {
        let mut room = Room::load([]).unwrap();
        let empty_step2 =
            Message::Sync(SyncMessage::SyncStep2(Update::EMPTY_V1.to_vec())).encode_v1();
        assert!(room
            .receive(&mut Peer::default(), &empty_step2, false, MAX)
            .is_ok());
        let err = room
            .receive(&mut Peer::default(), &client_edit("x"), false, MAX)
            .unwrap_err();
        assert!(matches!(err, DocError::ReadOnly));
        assert_eq!(text_of(&room), "");
    }

    #[test]
    fn malformed_and_oversized_frames_change_nothing() {
        let mut room = Room::load([]).unwrap();
        room.receive(&mut Peer::default(), &client_edit("kept"), true, MAX)
            .unwrap();
        for bad in [
            &[][..],
            &[0, 2, 200, 1, 2][..],
            &[9, 9, 9][..],
            &[0, 7][..],
            &[255, 255, 255, 255, 255, 255][..],
        ] {
            assert!(
                matches!(
                    room.receive(&mut Peer::default(), bad, true, MAX),
                    Err(DocError::Malformed(_))
                ),
                "{bad:?}"
            );
        }
        let err = room
            .receive(
                &mut Peer::default(),
                &client_edit(&"x".repeat(200)),
                true,
                100,
            )
            .unwrap_err();
        assert!(matches!(err, DocError::TooLarge));
        assert_eq!(text_of(&room), "kept");
    }

    #[test]
    fn a_leaving_peer_takes_its_cursor_with_it() {
        let mut room = Room::load([]).unwrap();
        let mut peer = Peer::default();
        let client = Doc::with_client_id(77);
        let mut theirs = Awareness::new(client);
        theirs
            .set_local_state(serde_json::json!({ "user": { "name": "Ada" } }))
            .unwrap();
        let frame = Message::Awareness(theirs.update().unwrap()).encode_v1();
        let outcome = room.receive(&mut peer, &frame, false, MAX).unwrap();
        assert_eq!(outcome.awareness, [77]);
        let frame = room
            .awareness_frame([77, 78])
            .expect("a frame for the known client");
        assert_eq!(awareness_clients(&frame), [77]);
        assert_eq!(
            room.greeting().unwrap().len(),
            2,
            "newcomers see who is here"
        );
        let goodbye = room.leave(&peer).expect("removal is announced");
        assert_eq!(awareness_clients(&goodbye), [77]);
        assert_eq!(room.greeting().unwrap().len(), 1);
    }

    #[test]
    fn awareness_carries_the_signed_in_name_and_must_be_json() {
        let mut room = Room::load([]).unwrap();
        let mut ada = Peer::new(Person {
            id: Some("ada".into()),
            name: Some("Ada".into()),
            role: Some("pupil"),
        });
        let mut claims = Awareness::new(Doc::with_client_id(5));
        claims
            .set_local_state(serde_json::json!({ "user": { "name": "Læreren", "color": "#000" } }))
            .unwrap();
        let frame = Message::Awareness(claims.update().unwrap()).encode_v1();
        room.receive(&mut ada, &frame, false, MAX).unwrap();
        let seen = room.awareness_frame([5]).unwrap();
        let seen = String::from_utf8_lossy(&seen);
        assert!(seen.contains(r#""name":"Ada""#), "{seen}");
        assert!(!seen.contains("Læreren"), "{seen}");

        let mut broken = claims.update().unwrap();
        for entry in broken.clients.values_mut() {
            entry.json = "{not json".into();
        }
        let mut frame = client_edit("hei");
        frame.extend(Message::Awareness(broken).encode_v1());
        let refused = room.receive(&mut ada, &frame, true, MAX);
        assert!(
            matches!(refused, Err(DocError::Malformed(_))),
            "{refused:?}"
        );
        assert_eq!(text_of(&room), "", "nothing of the frame was applied");
    }

    fn person(id: &str, name: &str) -> Peer {
        Peer::new(Person {
            id: Some(id.into()),
            name: Some(name.into()),
            role: Some("pupil"),
        })
    }

    fn cursor_of(client: u64, state: serde_json::Value) -> Vec<u8> {
        let mut awareness = Awareness::new(Doc::with_client_id(client));
        awareness.set_local_state(state).unwrap();
        Message::Awareness(awareness.update().unwrap()).encode_v1()
    }

    /// The `null` state y-protocols sends to take a client's cursor away.
    fn gone(client: u64) -> Vec<u8> {
        let entry = yrs::sync::awareness::AwarenessUpdateEntry {
            clock: 99,
            json: "null".into(),
        };
        let clients = [(yrs::block::ClientID::new(client), entry)].into();
        Message::Awareness(AwarenessUpdate { clients }).encode_v1()
    }

    #[test]
    fn a_connection_speaks_only_for_its_own_awareness_clients() {
        let mut room = Room::load([]).unwrap();
        let mut teacher = Peer::new(Person {
            id: Some("teacher:t1".into()),
            name: Some("Kari".into()),
            role: Some("teacher"),
        });
        let mut ola = person("pupil:L1:p-ola", "Ola");
        let kari_cursor = cursor_of(5, serde_json::json!({ "user": { "name": "Kari" } }));
        room.receive(&mut teacher, &kari_cursor, false, MAX)
            .unwrap();

        // Ola's client passes on what it received (y-websocket does): dropped, nothing changes.
        let relayed = room.receive(&mut ola, &kari_cursor, false, MAX).unwrap();
        assert!(relayed.awareness.is_empty(), "{relayed:?}");
        // A newer state or a removal for Kari's client: refused.
        let mut newer = Awareness::new(Doc::with_client_id(5));
        newer
            .set_local_state(serde_json::json!({ "user": { "name": "Kari" } }))
            .unwrap();
        newer
            .set_local_state(serde_json::json!({ "user": { "name": "Kari", "x": 1 } }))
            .unwrap();
        let newer = Message::Awareness(newer.update().unwrap()).encode_v1();
        for forged in [newer, gone(5)] {
            let refused = room.receive(&mut ola, &forged, false, MAX);
            assert!(matches!(refused, Err(DocError::NotYours)), "{refused:?}");
        }
        let seen = String::from_utf8_lossy(&room.awareness_frame([5]).unwrap()).to_string();
        assert!(
            seen.contains(r#""role":"teacher""#) && seen.contains("Kari"),
            "{seen}"
        );

        // Ola's own cursor shows his name and role, whatever he claims.
        let claim = cursor_of(
            9,
            serde_json::json!({ "user": { "name": "Kari", "role": "teacher" } }),
        );
        room.receive(&mut ola, &claim, false, MAX).unwrap();
        let seen = String::from_utf8_lossy(&room.awareness_frame([9]).unwrap()).to_string();
        assert!(
            seen.contains(r#""name":"Ola""#) && seen.contains(r#""role":"pupil""#),
            "{seen}"
        );

        // A page of Kari's that reconnected takes over her cursor; the old connection
        // leaving then does not remove it.
        let mut kari_again = Peer::new(Person {
            id: Some("teacher:t1".into()),
            name: Some("Kari".into()),
            role: Some("teacher"),
        });
        room.receive(&mut kari_again, &kari_cursor, false, MAX)
            .unwrap();
        assert!(room.leave(&teacher).is_none());
        assert!(room.awareness_frame([5]).is_some());

        // More clients than a connection may speak for.
        let mut greedy = person("pupil:L1:p-sara", "Sara");
        for client in 20..20 + MAX_AWARENESS_CLIENTS as u64 {
            room.receive(
                &mut greedy,
                &cursor_of(client, serde_json::json!({})),
                false,
                MAX,
            )
            .unwrap();
        }
        let refused = room.receive(
            &mut greedy,
            &cursor_of(99, serde_json::json!({})),
            false,
            MAX,
        );
        assert!(matches!(refused, Err(DocError::NotYours)), "{refused:?}");

        // Once Kari's page is gone, her id is still hers: Ola cannot take it while her page
        // reconnects, and her next page gets it back.
        room.leave(&kari_again);
        let entry = yrs::sync::awareness::AwarenessUpdateEntry {
            clock: 1000,
            json: r#"{"cursor":null}"#.into(),
        };
        let clients = [(yrs::block::ClientID::new(5), entry)].into();
        let newer = Message::Awareness(AwarenessUpdate { clients }).encode_v1();
        let taken = room.receive(&mut ola, &newer, false, MAX);
        assert!(matches!(taken, Err(DocError::NotYours)), "{taken:?}");
        let mut kari_third = Peer::new(Person {
            id: Some("teacher:t1".into()),
            name: Some("Kari".into()),
            role: Some("teacher"),
        });
        room.receive(&mut kari_third, &kari_cursor, false, MAX)
            .unwrap();
    }

    /// Found by the fuzz target: frames whose updates built on edits the room did not have
    /// left yrs holding a "pending" update, after which encoding the document panicked
    /// (compaction, sleeping, the shutdown flush). Such updates are refused; the room stays
    /// encodable whatever the frames.
    #[test]
    fn an_update_that_builds_on_missing_edits_is_refused_and_the_room_stays_encodable() {
        use base64::Engine;
        for found in [
            "AwACAAMAAn07AAEvBAAAAgICAgICAgIBAgICAgIC9AAAAAAAAAAAAAAAAAAAAAD//QAKAAAADAMAAAA=",
            "AAEAAAA7AAEvBAEIAAA7AAEvBGUAAAEBAQFjL2JsAQAAAP8AAEAAAIICAgL0AAAAAAIAAAMBAQA=",
        ] {
            let input = base64::engine::general_purpose::STANDARD
                .decode(found)
                .unwrap();
            replay_stays_encodable(&input);
        }

        // Plainly: an edit of a client whose earlier edits never arrived.
        let author = Doc::with_client_id(42);
        let text = author.get_or_insert_text("t");
        text.insert(&mut author.transact_mut(), 0, "first");
        let before = author.transact().state_vector();
        text.insert(&mut author.transact_mut(), 5, " second");
        let second = author.transact().encode_state_as_update_v1(&before);
        let frame = Message::Sync(SyncMessage::Update(second)).encode_v1();
        let mut fresh = Room::load([]).unwrap();
        let refused = fresh.receive(&mut Peer::default(), &frame, true, MAX);
        assert!(
            matches!(refused, Err(DocError::Malformed(_))),
            "{refused:?}"
        );
        assert_eq!(
            fresh.snapshot(),
            Room::load([]).unwrap().snapshot(),
            "nothing kept"
        );
    }

    /// Feeds fuzz-found frames (each prefixed by its length byte) to a room; after every one
    /// the room must still encode, and a newcomer's sync must still be answered.
    fn replay_stays_encodable(input: &[u8]) {
        let mut room = Room::load([]).unwrap();
        let mut peer = Peer::default();
        let mut rest = input;
        while let Some((&len, tail)) = rest.split_first() {
            let len = usize::from(len).min(tail.len());
            let (frame, tail) = tail.split_at(len);
            rest = tail;
            let _ = std::panic::catch_unwind(AssertUnwindSafe(|| {
                room.receive(&mut peer, frame, true, MAX)
            }));
            let encoded = std::panic::catch_unwind(AssertUnwindSafe(|| room.snapshot()));
            assert!(encoded.is_ok(), "the room cannot be encoded any more");
            let step1 = Message::Sync(SyncMessage::SyncStep1(StateVector::default())).encode_v1();
            let answered = std::panic::catch_unwind(AssertUnwindSafe(|| {
                room.receive(&mut Peer::default(), &step1, false, MAX)
            }));
            assert!(
                matches!(answered, Ok(Ok(_))),
                "a newcomer's sync is not answered"
            );
        }
    }

    /// Found by the fuzz target: an edit followed by an unknown message type used to be
    /// applied, then the frame refused, so the edit was neither stored nor sent to anyone.
    #[test]
    fn an_edit_followed_by_an_unknown_message_is_refused_whole() {
        let mut room = Room::load([]).unwrap();
        let mut frame = client_edit("hei");
        frame.extend([9, 0]);
        let refused = room.receive(&mut Peer::default(), &frame, true, MAX);
        assert!(
            matches!(refused, Err(DocError::Malformed(_))),
            "{refused:?}"
        );
        assert_eq!(text_of(&room), "");
        // The bounds check before decoding refuses a claim of 2^32-1 clients in a few bytes.
        let bomb = update_frame(&[0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0]);
        let refused = room.receive(&mut Peer::default(), &bomb, true, MAX);
        assert!(
            matches!(refused, Err(DocError::Malformed(_))),
            "{refused:?}"
        );
    }

    /// Fuzzing in the test suite: mutated and random frames never change the document unless
    /// they are accepted whole, and never take the process down (the hub catches panics the
    /// same way). Seeded, so a failure repeats.
    #[test]
    fn mutated_frames_are_refused_whole_or_applied_whole() {
        use rand::{Rng, SeedableRng};
        let previous_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x7a71a);
        let mut awareness = Awareness::new(Doc::with_client_id(9));
        awareness
            .set_local_state(serde_json::json!({ "user": { "name": "Ada" } }))
            .unwrap();
        let seeds = [
            client_edit("hei på deg"),
            Message::Awareness(awareness.update().unwrap()).encode_v1(),
            Message::Sync(SyncMessage::SyncStep1(StateVector::default())).encode_v1(),
        ];
        for round in 0..20_000 {
            let mut frame = seeds[round % seeds.len()].clone();
            match rng.random_range(0..4) {
                0 => {
                    let at = rng.random_range(0..frame.len());
                    frame[at] = rng.random();
                }
                1 => frame.truncate(rng.random_range(0..frame.len())),
                2 => {
                    let at = rng.random_range(0..=frame.len());
                    frame.insert(at, rng.random());
                }
                _ => frame = (0..rng.random_range(0..64)).map(|_| rng.random()).collect(),
            }
            let mut room = Room::load([]).unwrap();
            let before = room.snapshot();
            let mut peer = Peer::default();
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
                room.receive(&mut peer, &frame, true, MAX)
            }));
            match result {
                Ok(Ok(outcome)) if !outcome.updates.is_empty() => {
                    assert!(
                        Room::load([room.snapshot().as_slice()]).is_ok(),
                        "round {round}"
                    );
                }
                Ok(Ok(_)) => {}
                // The hub keeps using a room after a refused or panicking frame.
                Ok(Err(_)) | Err(_) => {
                    assert_eq!(
                        room.snapshot(),
                        before,
                        "round {round}: a refused frame left a trace"
                    );
                    assert_eq!(text_of(&room), "", "round {round}");
                }
            }
        }
        std::panic::set_hook(previous_hook);
    }
}
