//! Any file with any declared type: the type sniffing takes it or refuses it, never panics,
//! and what it takes is stored as sent and of a safe type.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tavla::ids::LessonId;
use tavla::store::MemoryStore;
use tavla::store::disk::Room;
use tavla::uploads::{self, NewUpload, Quotas};

const TYPES: [&str; 8] = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain; charset=utf-8",
    "image/svg+xml",
    "text/html",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let store = MemoryStore::new();
    let quotas = Quotas {
        per_sender: u64::MAX,
        per_address: u64::MAX,
        per_lesson: u64::MAX,
        per_box: u64::MAX,
    };
    let lesson = LessonId::parse("L").expect("a valid id");
    let new = NewUpload {
        thread: "pm.l.L.g",
        lesson_id: Some(&lesson),
        doc: None,
        owner_id: "g",
        file_name: "../x",
        content_type: TYPES[usize::from(pick) % TYPES.len()],
        bytes,
        now_ms: 0,
    };
    if let Ok(saved) = uploads::save(&store, &quotas, Room::Plenty, new) {
        assert!(!saved.content_type.contains("svg") && !saved.content_type.contains("html"));
        assert_eq!(uploads::bytes(&store, &saved.id).unwrap().unwrap(), bytes);
    }
});
