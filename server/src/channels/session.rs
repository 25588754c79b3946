//! One connection's view of the lesson's messages: what its holder may read, what they asked
//! for, what they have been sent. No socket: requests and events go in, replies come out.

use std::collections::HashSet;
use std::sync::Arc;

use super::hands::{self, Hand, MyHand};
use super::message::{Author, FileRef, MessageKind, MAX_TEXT_CHARS};
use super::people::{group_entries, member_names};
use super::thread::{self, ThreadId};
use super::{ChannelError, Channels, Draft, Event};
use crate::auth::{can, teachers, Action, Who};
use crate::docs::access::{self as doc_access, DocName};
use crate::ids::{GroupId, ParticipantId};
use crate::lessons::lesson::{self, Lesson};
use crate::lessons::{classes, groups};
use crate::protocol::{GroupEntry, MessageRequest, ServerMessage};
use crate::uploads;
use crate::validate::invalid;

/// Longest mute, in minutes: a lesson.
pub const MAX_MUTE_MINUTES: u32 = 240;

pub struct Session {
    hub: Arc<Channels>,
    lesson: Lesson,
    who: Who,
    author: Author,
    /// Pupils: the threads they may read now. Teachers read every thread of their lesson.
    readable: HashSet<String>,
    /// The highest event number delivered (or covered by the history sent).
    cursor: u64,
    synced: bool,
    /// Pupils: what they were last told, so unchanged views are not re-sent to 300 sockets.
    last_hand: Option<MyHand>,
    last_chat: Option<ServerMessage>,
}

fn refused(request: &'static str, client_id: Option<String>, e: &ChannelError) -> ServerMessage {
    // What went wrong inside the box is logged, never sent.
    let message = if let ChannelError::Store(_) | ChannelError::Commit(_) = e {
        tracing::error!("message request failed: {e}");
        match e.code() {
            "disk_full" => "the box's disk is full; try again later".to_string(),
            "store_unavailable" => "the box cannot save right now; try again later".to_string(),
            _ => "internal error".to_string(),
        }
    } else {
        e.to_string()
    };
    ServerMessage::Refused {
        request,
        client_id,
        code: e.code(),
        message,
    }
}

/// Message text: 1..=2000 characters after trimming, no control characters but line breaks
/// and tabs.
fn checked_text(field: &'static str, raw: &str) -> Result<String, ChannelError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(invalid(field, "must not be empty").into());
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid(field, "is too long").into());
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(invalid(field, "must not contain control characters").into());
    }
    Ok(text.to_string())
}

fn checked_client_id(raw: &str) -> Result<String, ChannelError> {
    let ok = !raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(raw.to_string())
    } else {
        Err(invalid("client_id", "must be 1 to 64 letters, digits, - or _").into())
    }
}

impl Session {
    pub fn new(hub: Arc<Channels>, lesson: Lesson, who: Who) -> Result<Self, ChannelError> {
        let store = hub.store();
        let author = match &who {
            Who::Teacher { teacher_id } => {
                let teacher = teachers::get(store, teacher_id)
                    .map_err(|_| ChannelError::NotFound)?
                    .ok_or(ChannelError::NotFound)?;
                Author {
                    id: teacher.id.to_string(),
                    name: teacher.name,
                    teacher: true,
                }
            }
            Who::Pupil(seat) => {
                let me = lesson::get_participant(store, &seat.lesson_id, &seat.participant_id)?;
                Author {
                    id: me.id.to_string(),
                    name: me.name,
                    teacher: false,
                }
            }
            // A classroom camera sends media and takes part in no thread.
            Who::Nobody | Who::Camera { .. } | Who::PairedBox { .. } => {
                return Err(ChannelError::Forbidden)
            }
        };
        Ok(Self {
            hub,
            lesson,
            who,
            author,
            readable: HashSet::new(),
            cursor: 0,
            synced: false,
            last_hand: None,
            last_chat: None,
        })
    }

    /// Whether this is the teacher running the lesson: they moderate it (delete, mute, open
    /// chats, "coming to you") and read every thread of it. Decided by [`can`].
    fn is_teacher(&self) -> bool {
        can(
            &self.who,
            Action::ManageLesson {
                lesson_teacher: &self.lesson.teacher_id,
            },
        )
    }

    fn participant_id(&self) -> Option<&ParticipantId> {
        match &self.who {
            Who::Pupil(seat) => Some(&seat.participant_id),
            _ => None,
        }
    }

    pub async fn request(&mut self, request: MessageRequest) -> Vec<ServerMessage> {
        match request {
            MessageRequest::Sync { after } => self
                .sync(after)
                .unwrap_or_else(|e| vec![refused("sync", None, &e)]),
            MessageRequest::Send {
                client_id,
                thread,
                text,
                doc,
                file,
                announce,
            } => {
                let echo = Some(client_id.clone()).filter(|c| c.len() <= 64);
                match self
                    .send(&client_id, &thread, &text, doc, file, announce)
                    .await
                {
                    Ok(reply) => vec![reply],
                    Err(e) => vec![refused("send", echo, &e)],
                }
            }
            MessageRequest::DeleteMessage { thread, seq } => self
                .delete(&thread, seq)
                .await
                .err()
                .map(|e| refused("delete_message", None, &e))
                .into_iter()
                .collect(),
            MessageRequest::RaiseHand {
                question,
                client_id,
            } => {
                let echo = client_id.clone().filter(|c| c.len() <= 64);
                match self.raise_hand(question, client_id).await {
                    Ok(replies) => replies,
                    Err(e) => vec![refused("raise_hand", echo, &e)],
                }
            }
            MessageRequest::LowerHand { participant } => self
                .lower_hand(participant)
                .await
                .err()
                .map(|e| refused("lower_hand", None, &e))
                .into_iter()
                .collect(),
            MessageRequest::Coming { participant } => self
                .coming(&participant)
                .await
                .err()
                .map(|e| refused("coming", None, &e))
                .into_iter()
                .collect(),
            MessageRequest::SetChat { scope, open } => self
                .set_chat(&scope, open)
                .await
                .err()
                .map(|e| refused("set_chat", None, &e))
                .into_iter()
                .collect(),
            MessageRequest::Mute {
                participant,
                minutes,
            } => self
                .mute(&participant, minutes)
                .await
                .err()
                .map(|e| refused("mute", None, &e))
                .into_iter()
                .collect(),
        }
    }

    /// The threads this connection may read now.
    fn threads(&self) -> Result<Vec<String>, ChannelError> {
        let store = self.hub.store();
        let lesson = &self.lesson;
        let mut candidates = vec![
            ThreadId::Announcements {
                lesson_id: lesson.id.clone(),
            },
            ThreadId::ClassChat {
                lesson_id: lesson.id.clone(),
            },
        ];
        let everyone_groups = groups::all_of_lesson(store, &lesson.id)?;
        match self.participant_id() {
            Some(me) => {
                candidates.push(ThreadId::private(&lesson.id, me, &lesson.class_id));
                candidates.extend(
                    everyone_groups
                        .iter()
                        .filter(|g| g.members.iter().any(|m| m == me))
                        .map(|g| ThreadId::GroupChat {
                            lesson_id: lesson.id.clone(),
                            group_id: g.id.clone(),
                        }),
                );
            }
            None => {
                candidates.extend(everyone_groups.iter().map(|g| ThreadId::GroupChat {
                    lesson_id: lesson.id.clone(),
                    group_id: g.id.clone(),
                }));
                for pupil in classes::roster(store, &lesson.class_id)? {
                    candidates.push(ThreadId::private(
                        &lesson.id,
                        &ParticipantId::rostered(&pupil.id),
                        &lesson.class_id,
                    ));
                }
                for guest in lesson::participants(store, &lesson.id)?
                    .into_iter()
                    .filter(|p| p.pupil_id.is_none())
                {
                    candidates.push(ThreadId::private(&lesson.id, &guest.id, &lesson.class_id));
                }
            }
        }
        let chat = self.hub.chat(&lesson.id)?;
        let mut readable = Vec::new();
        for id in candidates {
            match thread::resolve(store, lesson, &chat, id) {
                Ok(resolved) if can(&self.who, Action::ReadThread(resolved.facts(false))) => {
                    readable.push(resolved.id.to_string())
                }
                Ok(_) | Err(ChannelError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(readable)
    }

    /// History after `after`, then `synced`, then the current hands, chat and groups.
    fn sync(&mut self, after: u64) -> Result<Vec<ServerMessage>, ChannelError> {
        let threads = self.threads()?;
        let store = self.hub.store();
        let entries = group_entries(store, &self.lesson)?;
        let (last, history) = self.hub.consistent(|| {
            let mut messages = Vec::new();
            let mut deletions = Vec::new();
            for thread in &threads {
                messages.extend(super::message::after(store, thread, after)?);
                for message in super::message::deleted_after(store, thread, after)? {
                    deletions.push((thread.clone(), message));
                }
            }
            Ok::<_, ChannelError>((messages, deletions))
        });
        let (mut messages, deletions) = history?;
        messages.sort_by_key(|m| m.seq);
        let mut out = Vec::new();
        if let Some(me) = self.participant_id() {
            out.push(self.threads_message(me, &threads, &entries));
        }
        out.extend(
            messages
                .into_iter()
                .map(|message| ServerMessage::Message { message }),
        );
        // A deletion replayed as an event: the message itself was already sent blanked.
        out.extend(
            deletions
                .into_iter()
                .map(|(thread, message)| ServerMessage::MessageDeleted {
                    seq: last,
                    thread,
                    message,
                }),
        );
        out.push(ServerMessage::Synced { seq: last });
        self.readable = threads.into_iter().collect();
        self.cursor = last;
        self.synced = true;
        self.last_hand = None;
        self.last_chat = None;
        let hands = Arc::new(self.hub.hands(&self.lesson.id)?);
        out.extend(self.hands_view(&hands));
        out.extend(self.chat_view()?);
        out.push(self.groups_view(&entries));
        Ok(out)
    }

    /// The threads a pupil (`me`) reads, by role.
    fn threads_message(
        &self,
        me: &ParticipantId,
        readable: &[String],
        entries: &[GroupEntry],
    ) -> ServerMessage {
        let lesson = &self.lesson;
        let group_chat = my_group(entries, me)
            .map(|g| g.chat.clone())
            .filter(|chat| readable.contains(chat));
        ServerMessage::Threads {
            private: ThreadId::private(&lesson.id, me, &lesson.class_id).to_string(),
            announcements: ThreadId::Announcements {
                lesson_id: lesson.id.clone(),
            }
            .to_string(),
            class_chat: ThreadId::ClassChat {
                lesson_id: lesson.id.clone(),
            }
            .to_string(),
            group_chat,
        }
    }

    /// What an event means for this connection.
    pub fn event(&mut self, event: Event) -> Vec<ServerMessage> {
        if !self.synced {
            return Vec::new();
        }
        match event {
            Event::Message(message) => {
                if message.seq <= self.cursor {
                    return Vec::new();
                }
                self.cursor = message.seq;
                if self.is_teacher() || self.readable.contains(&message.thread) {
                    vec![ServerMessage::Message {
                        message: (*message).clone(),
                    }]
                } else {
                    Vec::new()
                }
            }
            Event::Deleted {
                seq,
                thread,
                message,
            } => {
                if seq <= self.cursor {
                    return Vec::new();
                }
                self.cursor = seq;
                if self.is_teacher() || self.readable.contains(&thread) {
                    vec![ServerMessage::MessageDeleted {
                        seq,
                        thread,
                        message,
                    }]
                } else {
                    Vec::new()
                }
            }
            Event::Hands(queue) => self.hands_view(&queue),
            Event::Chat(_) => self.chat_view().unwrap_or_else(|e| {
                tracing::error!("reading chat settings failed: {e}");
                Vec::new()
            }),
            Event::Groups(entries) => self.regroup(&entries).unwrap_or_else(|e| {
                tracing::error!("reading groups failed: {e}");
                Vec::new()
            }),
        }
    }

    /// After missing events (a slow connection): the history since the cursor again.
    pub fn resync(&mut self) -> Vec<ServerMessage> {
        if !self.synced {
            return Vec::new();
        }
        self.sync(self.cursor)
            .unwrap_or_else(|e| vec![refused("sync", None, &e)])
    }

    fn regroup(&mut self, entries: &[GroupEntry]) -> Result<Vec<ServerMessage>, ChannelError> {
        let threads = self.threads()?;
        let mut out = Vec::new();
        if let Some(me) = self.participant_id() {
            out.push(self.threads_message(me, &threads, entries));
        }
        self.readable = threads.into_iter().collect();
        out.push(self.groups_view(entries));
        self.last_chat = None;
        out.extend(self.chat_view()?);
        Ok(out)
    }

    fn hands_view(&mut self, queue: &Arc<Vec<Hand>>) -> Vec<ServerMessage> {
        match self.participant_id() {
            None => vec![ServerMessage::Hands {
                queue: queue.to_vec(),
            }],
            Some(me) => {
                let mine = hands::my_hand(queue, me);
                if self.last_hand.as_ref() == Some(&mine) {
                    return Vec::new();
                }
                self.last_hand = Some(mine.clone());
                vec![ServerMessage::MyHand { hand: mine }]
            }
        }
    }

    fn chat_view(&mut self) -> Result<Vec<ServerMessage>, ChannelError> {
        let settings = self.hub.chat(&self.lesson.id)?;
        let Some(me) = self.participant_id() else {
            return Ok(vec![ServerMessage::ChatSettings { settings }]);
        };
        let group = groups::of_participant(self.hub.store(), &self.lesson.id, me)?;
        let view = ServerMessage::MyChat {
            class_open: settings.class_open,
            group_open: group.is_some_and(|g| settings.open_groups.contains(&g.id)),
            muted_until_ms: settings.muted_until(me, self.hub.now_ms()),
        };
        if self.last_chat.as_ref() == Some(&view) {
            return Ok(Vec::new());
        }
        self.last_chat = Some(view.clone());
        Ok(vec![view])
    }

    /// The groups for this connection: all of them for the teacher, a pupil's own for a pupil.
    fn groups_view(&self, entries: &[GroupEntry]) -> ServerMessage {
        match self.participant_id() {
            None => ServerMessage::Groups {
                groups: entries.to_vec(),
            },
            Some(me) => ServerMessage::MyGroup {
                group: my_group(entries, me).cloned(),
            },
        }
    }

    async fn send(
        &mut self,
        client_id: &str,
        thread_name: &str,
        text: &str,
        doc: Option<String>,
        file: Option<String>,
        announce: bool,
    ) -> Result<ServerMessage, ChannelError> {
        let client_id = checked_client_id(client_id)?;
        // A file may go without words.
        let text = match (&file, text.trim()) {
            (Some(_), "") => String::new(),
            _ => checked_text("text", text)?,
        };
        let chat = self.hub.chat(&self.lesson.id)?;
        let resolved = thread::writable(
            self.hub.store(),
            &self.lesson,
            &chat,
            &self.who,
            thread_name,
            self.hub.now_ms(),
        )?;
        if announce && !self.is_teacher() {
            return Err(ChannelError::Forbidden);
        }
        if let Some(doc) = &doc {
            self.check_doc_link(doc)?;
        }
        let file = match file {
            Some(id) => Some(self.attachment(&id, &resolved.id.to_string())?),
            None => None,
        };
        let kind = match resolved.id {
            ThreadId::Announcements { .. } => MessageKind::Announcement,
            _ if announce => MessageKind::Announcement,
            _ => MessageKind::Message,
        };
        let message = self
            .hub
            .post(Draft {
                thread: resolved.id.to_string(),
                lesson_id: self.lesson.id.clone(),
                author: self.author.clone(),
                kind,
                text,
                doc,
                file: file.clone(),
                client_id: Some(client_id.clone()),
                origin: None,
            })
            .await?;
        // The file is a message's now: the sweep of unsent uploads leaves it.
        if let Some(file) = &file {
            uploads::mark_attached(self.hub.store(), &file.id)?;
        }
        Ok(ServerMessage::Sent {
            client_id,
            seq: message.seq,
        })
    }

    /// A file goes only into the thread it was uploaded for, by the one who uploaded it.
    fn attachment(&self, id: &str, thread: &str) -> Result<FileRef, ChannelError> {
        let not_yours =
            || ChannelError::from(invalid("file", "is not a file you sent to this thread"));
        let upload = uploads::get(self.hub.store(), id)?.ok_or_else(not_yours)?;
        if upload.thread != thread || upload.owner_id != self.author.id {
            return Err(not_yours());
        }
        Ok(FileRef {
            id: upload.id,
            name: upload.file_name,
            content_type: upload.content_type,
            size: upload.size,
        })
    }

    /// A message may point only to a document its writer can open.
    fn check_doc_link(&self, doc: &str) -> Result<(), ChannelError> {
        let name = DocName::parse(doc).ok_or(invalid("doc", "is not a document"))?;
        let resolved = doc_access::resolve(self.hub.store(), name)
            .map_err(|_| invalid("doc", "is not a document you can open"))?;
        if can(&self.who, Action::ReadDoc(resolved.facts())) {
            Ok(())
        } else {
            Err(invalid("doc", "is not a document you can open").into())
        }
    }

    fn teacher_only(&self) -> Result<(), ChannelError> {
        if self.is_teacher() {
            Ok(())
        } else {
            Err(ChannelError::Forbidden)
        }
    }

    async fn delete(&mut self, thread_name: &str, seq: u64) -> Result<(), ChannelError> {
        self.teacher_only()?;
        let chat = self.hub.chat(&self.lesson.id)?;
        let resolved = thread::readable(
            self.hub.store(),
            &self.lesson,
            &chat,
            &self.who,
            thread_name,
        )?;
        self.hub
            .delete(&self.lesson.id, &resolved.id.to_string(), seq)
            .await
    }

    async fn raise_hand(
        &mut self,
        question: Option<String>,
        client_id: Option<String>,
    ) -> Result<Vec<ServerMessage>, ChannelError> {
        let raises = Action::RaiseHand {
            lesson_id: &self.lesson.id,
        };
        let (Who::Pupil(seat), true) = (&self.who, can(&self.who, raises)) else {
            return Err(ChannelError::Forbidden);
        };
        let question = match question.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(q) => Some(checked_text("question", q)?),
        };
        let mut replies = Vec::new();
        if let Some(question) = &question {
            let client_id = checked_client_id(client_id.as_deref().unwrap_or_default())?;
            let message = self
                .hub
                .post(Draft {
                    thread: ThreadId::private(
                        &self.lesson.id,
                        &seat.participant_id,
                        &seat.class_id,
                    )
                    .to_string(),
                    lesson_id: self.lesson.id.clone(),
                    author: self.author.clone(),
                    kind: MessageKind::Question,
                    text: question.clone(),
                    doc: None,
                    file: None,
                    client_id: Some(client_id.clone()),
                    origin: None,
                })
                .await?;
            replies.push(ServerMessage::Sent {
                client_id,
                seq: message.seq,
            });
        }
        let hand = Hand {
            participant_id: seat.participant_id.clone(),
            name: self.author.name.clone(),
            at_home: seat.at_home,
            raised_ms: self.hub.now_ms(),
            question,
            coming: false,
        };
        self.hub
            .update_hands(&self.lesson.id, |queue| {
                let before = queue.clone();
                hands::raise(queue, hand);
                *queue != before
            })
            .await?;
        Ok(replies)
    }

    async fn lower_hand(&mut self, participant: Option<ParticipantId>) -> Result<(), ChannelError> {
        let teacher = self.is_teacher();
        let whose = match (&self.who, participant) {
            (_, Some(p)) if teacher => {
                if !member_names(self.hub.store(), &self.lesson)?.contains_key(&p) {
                    return Err(ChannelError::NotFound);
                }
                p
            }
            (_, None) if teacher => {
                return Err(invalid("participant", "name whose hand to lower").into())
            }
            (Who::Pupil(seat), None) => seat.participant_id.clone(),
            (Who::Pupil(seat), Some(p)) if p == seat.participant_id => p,
            _ => return Err(ChannelError::Forbidden),
        };
        // Lowering a hand that is already down is not an error: the teacher and the pupil may
        // both have pressed the button.
        self.hub
            .update_hands(&self.lesson.id, |queue| hands::lower(queue, &whose))
            .await?;
        Ok(())
    }

    async fn coming(&mut self, participant: &ParticipantId) -> Result<(), ChannelError> {
        self.teacher_only()?;
        let queue = self.hub.hands(&self.lesson.id)?;
        if !queue.iter().any(|h| h.participant_id == participant) {
            return Err(ChannelError::NotFound);
        }
        self.hub
            .update_hands(&self.lesson.id, |queue| {
                let news = queue
                    .iter()
                    .any(|h| h.participant_id == participant && !h.coming);
                hands::coming(queue, participant);
                news
            })
            .await?;
        Ok(())
    }

    async fn set_chat(&mut self, scope: &str, open: bool) -> Result<(), ChannelError> {
        self.teacher_only()?;
        // `scope` is "class" or a group's id.
        let group = if scope == "class" {
            None
        } else {
            let id = GroupId::parse(scope).map_err(|_| ChannelError::NotFound)?;
            groups::get(self.hub.store(), &self.lesson.id, &id)
                .map_err(|_| ChannelError::NotFound)?;
            Some(id)
        };
        self.hub
            .update_chat(&self.lesson.id, |settings| match group {
                None => settings.class_open = open,
                Some(group) => {
                    settings.open_groups.retain(|g| *g != group);
                    if open {
                        settings.open_groups.push(group);
                    }
                }
            })
            .await
    }

    async fn mute(
        &mut self,
        participant: &ParticipantId,
        minutes: u32,
    ) -> Result<(), ChannelError> {
        self.teacher_only()?;
        if minutes > MAX_MUTE_MINUTES {
            return Err(invalid("minutes", "must be at most 240").into());
        }
        if !member_names(self.hub.store(), &self.lesson)?.contains_key(participant) {
            return Err(ChannelError::NotFound);
        }
        let until = self.hub.now_ms() + u64::from(minutes) * 60_000;
        self.hub
            .update_chat(&self.lesson.id, |settings| {
                if minutes == 0 {
                    settings.muted.remove(participant);
                } else {
                    settings.muted.insert(participant.clone(), until);
                }
            })
            .await
    }
}

/// The group a participant is in, from the lesson's entries.
fn my_group<'a>(
    entries: &'a [GroupEntry],
    participant_id: &ParticipantId,
) -> Option<&'a GroupEntry> {
    entries
        .iter()
        .find(|g| g.members.iter().any(|m| m.id == participant_id))
}
