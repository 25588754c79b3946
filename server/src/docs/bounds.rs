//! Counts a frame claims, checked before yrs reserves memory for them. yrs reads "this many
//! clients follow" and reserves a table that size before reading them, so a few bytes claiming
//! millions make the server allocate (and touch) hundreds of megabytes. Every entry takes a
//! minimum number of bytes, which bounds an honest claim. Found by the fuzz target
//! (`server/fuzz`).

use yrs::encoding::read::{Cursor, Read};
use yrs::sync::protocol::{
    MSG_AUTH, MSG_AWARENESS, MSG_QUERY_AWARENESS, MSG_SYNC, MSG_SYNC_STEP_1, MSG_SYNC_STEP_2,
    MSG_SYNC_UPDATE, PERMISSION_DENIED,
};

use super::DocError;

/// Smallest encodings: a state vector entry is client and clock; an update's client header is
/// block count, client and clock; an awareness entry is client, clock and a string length.
const STATE_VECTOR_ENTRY: usize = 2;
const UPDATE_CLIENT: usize = 3;
const AWARENESS_ENTRY: usize = 3;

/// Refuses a frame whose messages claim more entries than their bytes can hold. Walks the
/// messages exactly as yrs's `MessageReader` does; anything else malformed is left for it to
/// report.
pub fn check_claimed_counts(frame: &[u8]) -> Result<(), DocError> {
    let mut cursor = Cursor::new(frame);
    while cursor.has_content() {
        let Ok(tag) = cursor.read_var::<u8>() else {
            return Ok(());
        };
        let (body, entry) = match tag {
            MSG_SYNC => {
                let Ok(kind) = cursor.read_var::<u8>() else {
                    return Ok(());
                };
                let entry = match kind {
                    MSG_SYNC_STEP_1 => STATE_VECTOR_ENTRY,
                    MSG_SYNC_STEP_2 | MSG_SYNC_UPDATE => UPDATE_CLIENT,
                    _ => return Ok(()),
                };
                (cursor.read_buf(), entry)
            }
            MSG_AWARENESS => (cursor.read_buf(), AWARENESS_ENTRY),
            MSG_QUERY_AWARENESS => continue,
            // Read as yrs reads it: the reason follows only a denial.
            MSG_AUTH => match cursor.read_var::<u8>() {
                Ok(PERMISSION_DENIED) if cursor.read_string().is_err() => return Ok(()),
                Ok(_) => continue,
                Err(_) => return Ok(()),
            },
            // Custom messages: a tag and a buffer, skipped (the room refuses them later).
            _ => match cursor.read_buf() {
                Ok(_) => continue,
                Err(_) => return Ok(()),
            },
        };
        let Ok(body) = body else {
            return Ok(());
        };
        // Read wide: yrs reads some counts as usize, and a narrower read would wrap.
        let claimed = Cursor::new(body).read_var::<u64>().unwrap_or(0);
        if claimed > (body.len() / entry) as u64 {
            return Err(DocError::Malformed(format!(
                "message claims {claimed} entries in {} bytes",
                body.len()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::sync::{Message, SyncMessage};
    use yrs::updates::encoder::Encode;
    use yrs::{Doc, ReadTxn, StateVector, Text, Transact};

    /// `tag`, then (for sync) `kind`, then a body that claims u32::MAX entries.
    fn bomb(prefix: &[u8]) -> Vec<u8> {
        let mut frame = prefix.to_vec();
        frame.extend([8, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0]);
        frame
    }

    #[test]
    fn huge_claims_are_refused_and_honest_frames_pass() {
        for prefix in [
            &[MSG_SYNC, MSG_SYNC_STEP_1][..],
            &[MSG_SYNC, MSG_SYNC_STEP_2],
            &[MSG_SYNC, MSG_SYNC_UPDATE],
            &[MSG_AWARENESS],
        ] {
            assert!(check_claimed_counts(&bomb(prefix)).is_err(), "{prefix:?}");
        }
        let doc = Doc::with_client_id(7);
        let text = doc.get_or_insert_text("t");
        text.insert(&mut doc.transact_mut(), 0, "hei");
        let update = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        for message in [
            Message::Sync(SyncMessage::Update(update.clone())),
            Message::Sync(SyncMessage::SyncStep2(update)),
            Message::Sync(SyncMessage::SyncStep1(doc.transact().state_vector())),
            Message::AwarenessQuery,
        ] {
            assert!(
                check_claimed_counts(&message.encode_v1()).is_ok(),
                "{message:?}"
            );
        }
    }
}
