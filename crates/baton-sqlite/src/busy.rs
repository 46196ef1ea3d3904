//! Waiting for the write lock. SQLite's built-in busy timeout sleeps up to 100 ms between
//! tries, which wastes most of the lock's free time when many processes queue for it. This
//! handler retries after a short, jittered sleep until a deadline.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rusqlite::Connection;

static TIMEOUT_MS: AtomicU64 = AtomicU64::new(30_000);

thread_local! {
    static WAIT_STARTED: Cell<Option<Instant>> = const { Cell::new(None) };
}

pub fn install(conn: &mut Connection, timeout: Duration) -> rusqlite::Result<()> {
    TIMEOUT_MS.store(timeout.as_millis() as u64, Ordering::Relaxed);
    conn.busy_handler(Some(on_busy))
}

fn on_busy(attempt: i32) -> bool {
    let now = Instant::now();
    let started = WAIT_STARTED.with(|cell| {
        if attempt == 0 || cell.get().is_none() {
            cell.set(Some(now));
        }
        cell.get().unwrap_or(now)
    });
    let limit = Duration::from_millis(TIMEOUT_MS.load(Ordering::Relaxed));
    if now.duration_since(started) >= limit {
        WAIT_STARTED.with(|cell| cell.set(None));
        return false;
    }
    // 50 us doubling to at most 2 ms, plus jitter so waiters do not wake in lockstep.
    let base_us = 50u64 << (attempt.clamp(0, 5) as u32);
    let jitter = jitter_us(base_us);
    std::thread::sleep(Duration::from_micros(base_us + jitter));
    true
}

fn jitter_us(range: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    let mixed = (nanos ^ (std::process::id() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_mul(0xBF58_476D_1CE4_E5B9);
    (mixed >> 17) % range.max(1)
}
