//! Random y-protocols frames into one document room, as a connection would send them.
//! The input is a list of frames, each prefixed by one length byte. What must hold:
//! a frame the room refuses (or that panics inside yrs, which the hub catches) leaves the
//! document exactly as it was, a frame that gives nothing to store adds no content, and
//! whatever the room accepts can be stored and loaded again.
//!
//! yrs reserves (without touching) memory for the block counts an update claims; run with
//! `ASAN_OPTIONS=allocator_may_return_null=1 … -- -malloc_limit_mb=1000000` so absurd claims
//! fail the way they do on the box (a refused allocation, a decode error). Counts whose
//! reservation would be touched are bounded before yrs sees them (`docs::bounds`).
#![no_main]

use std::panic::{catch_unwind, AssertUnwindSafe};

use libfuzzer_sys::fuzz_target;
use tavla::docs::room::{Peer, Room};
use yrs::updates::decoder::Decode;
use yrs::Update;

/// What a snapshot holds, as a state vector (the room's own encoding always decodes).
fn state_vector(snapshot: &[u8]) -> yrs::StateVector {
    Update::decode_v1(snapshot)
        .expect("the room's snapshot decodes")
        .state_vector()
}

const MAX_DOC_BYTES: usize = 64 * 1024;

fuzz_target!(
    init: {
        // The hub survives panics in yrs by catching them; so does this target. A failed
        // check below still ends the run: it unwinds out of the fuzzer's callback.
        // Its own checks failing are reported; panics inside yrs stay quiet.
        std::panic::set_hook(Box::new(|info| {
            if std::env::var_os("FUZZ_SHOW_PANICS").is_some()
                || info.location().is_some_and(|at| at.file().contains("room_frames"))
            {
                eprintln!("{info}");
            }
        }));
    },
    |data: &[u8]| {
        let mut room = Room::load([]).expect("an empty room loads");
        let mut peer = Peer::default();
        let mut rest = data;
        while let Some((&len, tail)) = rest.split_first() {
            let len = (len as usize).min(tail.len());
            let (frame, tail) = tail.split_at(len);
            rest = tail;
            let before = room.snapshot();
            let known_before = state_vector(&before);
            let may_write = len % 2 == 0;
            let result = catch_unwind(AssertUnwindSafe(|| {
                room.receive(&mut peer, frame, may_write, MAX_DOC_BYTES)
            }));
            match result {
                Ok(Ok(outcome)) if !outcome.updates.is_empty() => {
                    assert!(may_write, "a read-only peer changed the document");
                    let stored = room.snapshot();
                    assert!(Room::load([stored.as_slice()]).is_ok(), "accepted state reloads");
                }
                // Nothing to store: no new content either (an empty delete set may linger).
                Ok(Ok(_)) => assert_eq!(
                    state_vector(&room.snapshot()),
                    known_before,
                    "content changed but nothing was stored"
                ),
                Ok(Err(_)) | Err(_) => assert_eq!(room.snapshot(), before, "a refused frame left a trace"),
            }
        }
    }
);
