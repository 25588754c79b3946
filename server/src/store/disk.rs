//! How much room the data directory's disk has, and the two lines Tavla keeps on it.
//!
//! - The **reserve** (`min_free_disk_bytes`): files, and what pupils and guests add to
//!   documents, stop above it. Below it the teacher still writes, deletes and ends lessons.
//! - The **floor** (`disk_floor_bytes`): below it the store takes no more writes at all (it
//!   still removes), so its database never meets a full disk: a log-structured store that
//!   does stays broken until it is reopened.
//!
//! Asking the file system costs a system call, so the answer is kept for a moment and what
//! was written since is subtracted from it.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a look at the file system is trusted.
const LOOK_EVERY: Duration = Duration::from_millis(250);
/// Or until this much was written since.
const LOOK_AFTER_BYTES: u64 = 1024 * 1024;

/// The disk under the data directory.
pub struct Disk {
    path: Option<PathBuf>,
    reserve: u64,
    floor: u64,
    seen: Mutex<Seen>,
}

struct Seen {
    free: Option<u64>,
    at: Option<Instant>,
    written_since: u64,
}

/// Where the disk stands against the two lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Room {
    /// Above the reserve.
    Plenty,
    /// Between the floor and the reserve: only the teacher's writes go in.
    BelowReserve,
    /// Below the floor: no writes go in.
    BelowFloor,
}

impl Disk {
    pub fn new(path: &Path, reserve: u64, floor: u64) -> Self {
        Self {
            path: Some(path.to_path_buf()),
            reserve,
            floor,
            seen: Mutex::new(Seen {
                free: None,
                at: None,
                written_since: 0,
            }),
        }
    }

    /// A disk that is never full (unit tests, the in-memory store).
    pub fn unlimited() -> Self {
        Self {
            path: None,
            reserve: 0,
            floor: 0,
            seen: Mutex::new(Seen {
                free: None,
                at: None,
                written_since: 0,
            }),
        }
    }

    /// Bytes free now, as far as anyone knows (`None`: unknown, taken as plenty).
    fn free(&self) -> Option<u64> {
        let path = self.path.as_deref()?;
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let stale = seen.at.is_none_or(|at| at.elapsed() >= LOOK_EVERY)
            || seen.written_since >= LOOK_AFTER_BYTES;
        if stale {
            seen.free = crate::limits_os::free_disk_bytes(path);
            seen.at = Some(Instant::now());
            seen.written_since = 0;
        }
        seen.free
            .map(|free| free.saturating_sub(seen.written_since))
    }

    /// Notes `bytes` written, so the next answer is not too generous.
    pub fn wrote(&self, bytes: u64) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.written_since = seen.written_since.saturating_add(bytes);
    }

    /// Where the disk would stand after writing `bytes` more.
    pub fn room_for(&self, bytes: u64) -> Room {
        match self.free() {
            None => Room::Plenty,
            Some(free) => room_after(free, bytes, self.reserve, self.floor),
        }
    }
}

/// Where a disk with `free` bytes stands after `bytes` more, against the two lines.
fn room_after(free: u64, bytes: u64, reserve: u64, floor: u64) -> Room {
    let after = free.saturating_sub(bytes);
    if after < floor || free < bytes {
        Room::BelowFloor
    } else if after < reserve {
        Room::BelowReserve
    } else {
        Room::Plenty
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_disk_has_room_and_a_real_one_is_measured_against_both_lines() {
        assert_eq!(Disk::unlimited().room_for(u64::MAX), Room::Plenty);
        let dir = tempfile::tempdir().unwrap();
        let free = crate::limits_os::free_disk_bytes(dir.path()).unwrap();
        let roomy = Disk::new(dir.path(), 0, 0);
        assert_eq!(roomy.room_for(1), Room::Plenty);
        assert_eq!(roomy.room_for(free.saturating_mul(2)), Room::BelowFloor);
        let reserved = Disk::new(dir.path(), u64::MAX, 0);
        assert_eq!(reserved.room_for(1), Room::BelowReserve);
        let floored = Disk::new(dir.path(), u64::MAX, u64::MAX);
        assert_eq!(floored.room_for(1), Room::BelowFloor);
    }

    /// The lines are exact: a file of 5 bytes on a disk with 104 free and a reserve of 100 is
    /// below it; with 105 free it is not.
    #[test]
    fn the_reserve_and_the_floor_are_kept_to_the_byte() {
        assert_eq!(room_after(104, 5, 100, 0), Room::BelowReserve);
        assert_eq!(room_after(105, 5, 100, 0), Room::Plenty);
        assert_eq!(room_after(105, 5, 100, 101), Room::BelowFloor);
        assert_eq!(room_after(4, 5, 0, 0), Room::BelowFloor);
    }

    #[test]
    fn what_was_written_since_the_last_look_counts() {
        let dir = tempfile::tempdir().unwrap();
        let disk = Disk::new(dir.path(), 0, 0);
        let before = disk.free().unwrap();
        disk.wrote(4096);
        // Either the same look less what was written, or a new look (time passed).
        assert!(disk.free().unwrap() <= before);
    }
}
