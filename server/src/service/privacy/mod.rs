//! A pupil's data: one archive of everything the box keeps about them (for the teacher, and
//! for the pupil about themselves), and deletion of all of it.
//!
//! Every store tree has a [`Keeper`] ([`keeper_of`] is an exhaustive `match`, so a new tree
//! does not compile until it names one); export asks each what it holds, deletion tells each
//! to forget. Deletion then rewrites the store's files ([`Store::compact`]) so that nothing
//! removed can be read back from the disk, and leaves a tombstone that names no one.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use super::{access, lessons, messages, Services};
use crate::auth::grants::{Ended, Revocation};
use crate::auth::sessions::{self, SignIns};
use crate::auth::{can, Action, Who};
use crate::channels;
use crate::clock::DAY_MS;
use crate::config::Retention;
use crate::docs::name::DocName;
use crate::docs::privacy::Documents;
use crate::docs::quota;
use crate::error::ServiceError;
use crate::ids::{ClassId, ParticipantId, PupilId};
use crate::lessons::classes::{self, Class, Pupil};
use crate::lessons::lesson;
use crate::lessons::privacy::{Attendance, Roster};
use crate::privacy::{Held, Keeper, LessonKeeper, LessonScope, NothingAboutPupils, Subject};
use crate::store::{Store, StoreExt, Tree};
use crate::uploads::Files;

/// The keeper that answers for each store tree.
pub fn keeper_of(tree: Tree) -> &'static dyn Keeper {
    match tree {
        Tree::Classes => &Roster,
        Tree::Lessons => &Attendance,
        Tree::Docs => &Documents,
        Tree::Channels => &channels::privacy::Messages,
        Tree::Files => &Files,
        Tree::Sessions => &SignIns,
        Tree::Vpn => &crate::vpn::privacy::VpnPeers,
        Tree::Teachers => &NothingAboutPupils {
            name: "teacher accounts",
            trees: &[Tree::Teachers],
        },
        Tree::SetupTokens => &NothingAboutPupils {
            name: "setup links",
            trees: &[Tree::SetupTokens],
        },
        // Which boxes are paired and what each receives: box names, addresses, class ids.
        Tree::Boxes => &NothingAboutPupils {
            name: "paired boxes",
            trees: &[Tree::Boxes],
        },
    }
}

/// Every keeper, once each, in the order of the store's trees.
pub fn keepers() -> Vec<&'static dyn Keeper> {
    let mut all: Vec<&'static dyn Keeper> = Vec::new();
    for tree in Tree::ALL {
        let keeper = keeper_of(tree);
        if !all.iter().any(|k| k.name() == keeper.name()) {
            all.push(keeper);
        }
    }
    all
}

/// Every subsystem that keeps things per lesson; the lesson's own record goes last.
fn lesson_keepers() -> [&'static dyn LessonKeeper; 5] {
    [
        &Documents,
        &channels::privacy::Messages,
        &Files,
        &SignIns,
        &Attendance,
    ]
}

fn days_ms(days: u32) -> u64 {
    u64::from(days) * DAY_MS
}

/// What a retention sweep deleted.
pub struct Swept {
    pub lessons: usize,
    pub records: usize,
}

/// Deletes what the box has kept longer than the school chose (`[retention]`): lessons (and
/// everything in them) that ended `lesson_days` ago, private messages older than
/// `private_message_days`, sign-ins that ran out. Runs daily; the store is rewritten when
/// something went, as after a deletion.
pub async fn sweep_expired(s: &Services, retention: &Retention) -> Result<Swept, ServiceError> {
    let now = s.clock.now_ms();
    let store = s.store.as_ref();
    let lessons = lesson::over_before(store, now.saturating_sub(days_ms(retention.lesson_days)))?;
    let mut records = forget_lessons(s, &lessons).await?;
    let private_before = now.saturating_sub(days_ms(retention.private_message_days));
    records += channels::privacy::expire_private(store, private_before)?;
    // Files sent in those threads go with their messages.
    records += crate::uploads::expire_in_threads(
        store,
        channels::thread::ThreadId::ROSTERED_PRIVATE_PREFIX,
        private_before,
    )?;
    records += sessions::remove_expired(store, now)?;
    if records > 0 {
        rewrite_store(s).await?;
    }
    tracing::info!(lessons = lessons.len(), records, "retention sweep done");
    Ok(Swept {
        lessons: lessons.len(),
        records,
    })
}

/// One line of "what is kept, and when it goes" for the teacher.
#[derive(Debug, Serialize)]
pub struct RetentionLine {
    pub kind: &'static str,
    pub days: u32,
    /// How many of the teacher's are kept now.
    pub count: usize,
    /// When the oldest of them is deleted.
    pub next_deletion_ms: Option<u64>,
}

/// What is kept of the teacher's classes, for how long, and when the next deletion comes.
pub fn retention_overview(
    s: &Services,
    who: &Who,
    retention: &Retention,
) -> Result<Vec<RetentionLine>, ServiceError> {
    let store = s.store.as_ref();
    let mut lessons_over = Vec::new();
    let mut private = (0, None::<u64>);
    for class in super::roster::classes_of(s, who)? {
        lessons_over.extend(lesson::past_for_class(store, &class.id, s.clock.now_ms())?);
        let (count, oldest) = channels::privacy::private_survey(store, &class.id)?;
        private.0 += count;
        private.1 = match (private.1, oldest) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    let oldest_end = lessons_over
        .iter()
        .map(|l| l.ended_ms.unwrap_or(l.expires_ms))
        .min();
    Ok(vec![
        RetentionLine {
            kind: "lessons",
            days: retention.lesson_days,
            count: lessons_over.len(),
            next_deletion_ms: oldest_end.map(|t| t + days_ms(retention.lesson_days)),
        },
        RetentionLine {
            kind: "private_messages",
            days: retention.private_message_days,
            count: private.0,
            next_deletion_ms: private
                .1
                .map(|t| t + days_ms(retention.private_message_days)),
        },
    ])
}

/// The pupil as every keeper needs them.
fn subject(store: &dyn Store, pupil: &Pupil) -> Result<Subject, ServiceError> {
    let lessons = lesson::of_class(store, &pupil.class_id)?
        .into_iter()
        .map(|l| l.id)
        .collect();
    let mut subject = Subject::new(
        &pupil.class_id,
        &pupil.id,
        &pupil.name,
        lessons,
        channels::privacy::private_thread(&pupil.class_id, &pupil.id),
    );
    subject.own_documents = crate::docs::privacy::owned(store, &subject)?
        .into_iter()
        .map(|d| d.name.to_string())
        .collect();
    Ok(subject)
}

/// The pupil whose data `who` asks for: the class's teacher may ask for any of its pupils
/// (another teacher finds nothing: 404), a pupil for themselves (any other pupil, or a
/// classroom camera: 403, as on every teacher route).
fn pupil_for(
    s: &Services,
    who: &Who,
    class_id: &ClassId,
    pupil_id: &PupilId,
) -> Result<Pupil, ServiceError> {
    let participant = ParticipantId::rostered(pupil_id);
    let own = can(
        who,
        Action::OwnData {
            class_id,
            participant_id: &participant,
        },
    );
    match who {
        _ if own => {}
        Who::Nobody => return Err(ServiceError::Unauthenticated),
        Who::Pupil(_) | Who::Camera { .. } | Who::PairedBox { .. } => {
            return Err(ServiceError::Forbidden)
        }
        Who::Teacher { .. } => {
            access::own_class(s, who, class_id)?;
        }
    }
    Ok(classes::get_pupil(s.store.as_ref(), class_id, pupil_id)?)
}

/// Everything the keepers hold about the pupil.
fn gather(store: &dyn Store, subject: &Subject) -> Result<Vec<Held>, ServiceError> {
    let mut held = Vec::new();
    for keeper in keepers() {
        held.extend(keeper.holds(store, subject)?);
    }
    Ok(held)
}

/// A downloadable archive.
pub struct Archive {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// One zip with everything about the pupil: `data.json` (machine-readable), `index.html` (a
/// page a parent can read, in `lang`), each document as HTML and text, and every file. Edits
/// still on their way to the store are waited for, so the archive has the latest text.
pub async fn export_pupil(
    s: &Services,
    who: &Who,
    class_id: &ClassId,
    pupil_id: &PupilId,
    lang: &str,
) -> Result<Archive, ServiceError> {
    let pupil = pupil_for(s, who, class_id, pupil_id)?;
    if let Err(e) = s.docs.durable().await {
        // The archive still has everything stored; the edits that wait are not in it.
        tracing::warn!("exporting while the latest edits cannot be stored: {e}");
    }
    let store = s.store.as_ref();
    let subject = subject(store, &pupil)?;
    let held = gather(store, &subject)?;
    let class_name = classes::get(store, class_id)?.name;
    let now_ms = s.clock.now_ms();
    let bytes = archive::build(&pupil.name, &class_name, &held, lang, now_ms)?;
    tracing::info!(%class_id, items = held.len(), "pupil data exported");
    Ok(Archive {
        file_name: format!("{}-tavla.zip", super::docs::file_stem(&pupil.name)),
        bytes,
    })
}

/// What a deletion did, keeper by keeper (the receipt the teacher sees).
pub struct Forgotten {
    pub removed: Vec<(&'static str, usize)>,
}

/// The teacher deletes a pupil: the pupil leaves the running lesson, every sign-in ends and
/// every connection closes (4002), each keeper forgets them, and the store is rewritten so
/// nothing of theirs is left in its files. What they wrote in shared documents stays, without
/// their name (see `docs::privacy`).
pub async fn forget_pupil(
    s: &Services,
    who: &Who,
    class_id: &ClassId,
    pupil_id: &PupilId,
) -> Result<Forgotten, ServiceError> {
    let class = access::own_class(s, who, class_id)?;
    let pupil = classes::get_pupil(s.store.as_ref(), &class.id, pupil_id)?;
    let removed = forget_one(s, &pupil).await?;
    rewrite_store(s).await?;
    let records: usize = removed.iter().map(|(_, n)| n).sum();
    tracing::info!(class_id = %class.id, records, "pupil deleted with everything kept about them");
    Ok(Forgotten { removed })
}

/// The teacher deletes a whole class: its running lesson ends (every connection of it closes
/// with 4001), every pupil is deleted as by [`forget_pupil`], every lesson goes with everything
/// in it (as when its retention time runs out), then the class itself; one tombstone per pupil
/// and one for the class, and the store is rewritten once.
pub async fn delete_class(
    s: &Services,
    who: &Who,
    class_id: &ClassId,
) -> Result<Forgotten, ServiceError> {
    let class = access::own_class(s, who, class_id)?;
    delete_whole_class(s, &class).await
}

/// A paired box deleted this pupil (its tombstone arrived with a class it shares): deleted here
/// as by [`forget_pupil`], leaving the same tombstone, so no box brings them back.
pub async fn forget_tombstoned_pupil(s: &Services, pupil: &Pupil) -> Result<(), ServiceError> {
    let removed = forget_one(s, pupil).await?;
    rewrite_store(s).await?;
    let records: usize = removed.iter().map(|(_, n)| n).sum();
    tracing::info!(class_id = %pupil.class_id, records, "pupil deleted here because a paired box deleted them");
    Ok(())
}

/// A paired box deleted a class this box took from it: deleted here as by [`delete_class`].
pub async fn delete_tombstoned_class(s: &Services, class: &Class) -> Result<(), ServiceError> {
    delete_whole_class(s, class).await?;
    tracing::info!(class_id = %class.id, "class deleted here because the paired box it came from deleted it");
    Ok(())
}

async fn delete_whole_class(s: &Services, class: &Class) -> Result<Forgotten, ServiceError> {
    let store = s.store.as_ref();
    if let Some(running) = lesson::active_for_class(store, &class.id, s.clock.now_ms())? {
        let ended = lesson::end(store, s.clock.as_ref(), &running)?;
        super::lessons::close(s, &ended)?;
    }
    let mut removed: BTreeMap<&'static str, usize> = BTreeMap::new();
    for pupil in classes::roster(store, &class.id)? {
        for (keeper, n) in forget_one(s, &pupil).await? {
            *removed.entry(keeper).or_default() += n;
        }
    }
    let lessons = lesson::of_class(store, &class.id)?;
    *removed.entry("lessons").or_default() += forget_lessons(s, &lessons).await?;
    *removed.entry("class").or_default() +=
        crate::lessons::privacy::forget_class(store, &class.id)?;
    crate::service::boxes::federation::pairs::unshare_class(store, &class.id)?;
    store.put_json(
        Tree::Classes,
        &crate::privacy::class_tombstone_key(&class.id),
        &json!({ "forgotten_ms": s.clock.now_ms() }),
    )?;
    store.flush()?;
    rewrite_store(s).await?;
    let records: usize = removed.values().sum();
    tracing::info!(class_id = %class.id, lessons = lessons.len(), records, "class deleted with everything kept about it");
    Ok(Forgotten {
        removed: removed.into_iter().collect(),
    })
}

/// Deletes one pupil everywhere, but leaves the store's rewrite to the caller (a class's
/// deletion rewrites once for all its pupils).
async fn forget_one(
    s: &Services,
    pupil: &Pupil,
) -> Result<Vec<(&'static str, usize)>, ServiceError> {
    let store = s.store.as_ref();
    let subject = subject(store, pupil)?;
    let me = subject.participant.clone();
    let class_id = &subject.class_id;

    // Access ends first, so nothing new arrives while the data goes.
    if let Some(running) = lesson::active_for_class(store, class_id, s.clock.now_ms())? {
        if lesson::get_participant(store, &running.id, &me).is_ok() {
            lessons::withdraw_participant(s, &running.id, &me)?;
        }
    }
    sessions::revoke_where(store, |session| {
        sessions::pupil_seat_matches(session, |seat| {
            seat.class_id == class_id && seat.participant_id == me
        })
    })?;
    s.grants.revoke(
        &Revocation::ParticipantInClass {
            class_id: class_id.clone(),
            participant_id: me.clone(),
        },
        Ended::Removed,
    );
    // Live state: a raised hand is lowered where the teacher sees it; open documents stop
    // writing and what they queued is written before it is deleted.
    for lesson_id in &subject.lessons {
        messages::lower_hand_of(s, lesson_id, &me).await?;
    }
    for doc in &subject.own_documents {
        s.docs.forget(doc);
    }
    s.docs
        .forget_counts(&quota::person_key_of_pupil(subject.pupil_id.as_str()));
    settle_before_deleting(s).await;

    let mut removed = Vec::new();
    for keeper in keepers() {
        removed.push((keeper.name(), keeper.forget(store, &subject)?));
    }
    store.put_json(
        Tree::Classes,
        &subject.tombstone_key(),
        &json!({ "forgotten_ms": s.clock.now_ms() }),
    )?;
    store.flush()?;
    // The pupil's VPN peer went with the keeper; WireGuard's file follows.
    super::vpn::write_interface_file(s)?;
    Ok(removed)
}

/// Deletes lessons with everything in them: their documents leave memory (what they queued is
/// written first), then every lesson keeper forgets them. Returns how many records went.
async fn forget_lessons(
    s: &Services,
    lessons: &[crate::lessons::lesson::Lesson],
) -> Result<usize, ServiceError> {
    let scopes: Vec<LessonScope> = lessons
        .iter()
        .map(|l| LessonScope {
            lesson_id: l.id.clone(),
            doc_prefix: DocName::lesson_prefix(&l.id),
            lasting_thread_prefix: channels::thread::ThreadId::ROSTERED_PRIVATE_PREFIX.to_string(),
        })
        .collect();
    for scope in &scopes {
        s.docs.forget_prefix(&scope.doc_prefix);
        for counts in quota::lesson_key_prefixes(&scope.lesson_id) {
            s.docs.forget_counts(&counts);
        }
    }
    settle_before_deleting(s).await;
    let mut records = 0;
    for scope in &scopes {
        for keeper in lesson_keepers() {
            records += keeper.forget_lesson(s.store.as_ref(), scope)?;
        }
    }
    Ok(records)
}

/// Rewrites the store so nothing deleted stays in its files ([`Store::compact`]), off the
/// async threads.
async fn rewrite_store(s: &Services) -> Result<(), ServiceError> {
    s.store.flush()?;
    let rewrite = s.store.clone();
    tokio::task::spawn_blocking(move || rewrite.compact())
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))??;
    Ok(())
}

mod archive;

/// Waits for the document writes queued so far. A store that cannot take them now is no
/// reason not to delete: what was queued for the forgotten documents is dropped by the
/// writer (`DocHub::forget`), whenever it writes again.
async fn settle_before_deleting(s: &Services) {
    if let Err(e) = s.docs.durable().await {
        tracing::warn!("deleting while document writes wait for the store: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tree_has_a_keeper_and_every_keeper_answers_for_its_trees() {
        for tree in Tree::ALL {
            let keeper = keeper_of(tree);
            assert!(keeper.trees().contains(&tree), "{}", keeper.name());
        }
        let covered: usize = keepers().iter().map(|k| k.trees().len()).sum();
        assert_eq!(covered, Tree::ALL.len(), "each tree answered for once");
    }

    #[test]
    fn the_readable_page_has_its_words_in_every_language() {
        for key in archive::keys() {
            assert!(
                crate::i18n::has(&key),
                "{key} is missing from a language file"
            );
        }
    }
}
