//! One connection's view of the lesson's messages: what its holder may read, what they asked
//! for, what they have been sent. No socket: requests and events go in, replies come out;
//! each request goes to its use-case in [`super`].

use std::collections::HashSet;
use std::sync::Arc;

use super::{Outgoing, Taken};
use crate::auth::{teachers, Who};
use crate::channels::hands::{self, Hand, MyHand};
use crate::channels::message::{self as stored_message, Author};
use crate::channels::people::group_entries;
use crate::channels::thread::ThreadId;
use crate::channels::{ChannelError, Channels, Event};
use crate::ids::ParticipantId;
use crate::lessons::lesson::{self, Lesson};
use crate::lessons::{classes, groups};
use crate::protocol::{GroupEntry, MessageRequest, ServerMessage};
use crate::service::Services;

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

    /// Whether this is the teacher running the lesson (see [`super::runs`]).
    fn is_teacher(&self) -> bool {
        super::runs(&self.who, &self.lesson)
    }

    fn participant_id(&self) -> Option<&ParticipantId> {
        match &self.who {
            Who::Pupil(seat) => Some(&seat.participant_id),
            _ => None,
        }
    }

    /// Carries out one request through its use-case; the replies for this connection.
    pub async fn request(&mut self, s: &Services, request: MessageRequest) -> Vec<ServerMessage> {
        let (who, lesson, author) = (&self.who, &self.lesson, &self.author);
        let name = request.name();
        let done = |result: Result<(), ChannelError>| {
            result
                .err()
                .map(|e| refused(name, None, &e))
                .into_iter()
                .collect()
        };
        let taken = |taken: Taken| ServerMessage::Sent {
            client_id: taken.client_id,
            seq: taken.seq,
        };
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
                let outgoing = Outgoing {
                    client_id,
                    thread,
                    text,
                    doc,
                    file,
                    announce,
                };
                match super::send(s, who, lesson, author, outgoing).await {
                    Ok(sent) => vec![taken(sent)],
                    Err(e) => vec![refused(name, echo, &e)],
                }
            }
            MessageRequest::DeleteMessage { thread, seq } => {
                done(super::delete_message(s, who, lesson, &thread, seq).await)
            }
            MessageRequest::RaiseHand {
                question,
                client_id,
            } => {
                let echo = client_id.clone().filter(|c| c.len() <= 64);
                match super::raise_hand(s, who, lesson, author, question, client_id).await {
                    Ok(sent) => sent.into_iter().map(taken).collect(),
                    Err(e) => vec![refused(name, echo, &e)],
                }
            }
            MessageRequest::LowerHand { participant } => {
                done(super::lower_hand(s, who, lesson, participant).await)
            }
            MessageRequest::Coming { participant } => {
                done(super::coming(s, who, lesson, &participant).await)
            }
            MessageRequest::SetChat { scope, open } => {
                done(super::set_chat(s, who, lesson, &scope, open).await)
            }
            MessageRequest::Mute {
                participant,
                minutes,
            } => done(super::mute(s, who, lesson, &participant, minutes).await),
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
        super::readable_threads(&self.hub, &self.who, lesson, candidates)
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
                messages.extend(stored_message::after(store, thread, after)?);
                for message in stored_message::deleted_after(store, thread, after)? {
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
