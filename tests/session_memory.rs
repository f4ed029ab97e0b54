//! A session's memory after a huge message comes back to what its stream
//! keeps (its context), whatever it was sent before: every byte the process
//! holds is counted by this test binary's allocator. One test function, so
//! no other test allocates at the same time.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use voiceport::models::Models;
use voiceport::protocol::Session;

/// The system allocator, counting the bytes held.
struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        HELD.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HELD.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        HELD.fetch_add(new_size, Ordering::Relaxed);
        HELD.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn held() -> usize {
    HELD.load(Ordering::Relaxed)
}

/// Bytes a session gained from one `message`, measured after a small
/// message that followed it (so only what it keeps counts), and the most
/// held while the message was processed.
fn kept_after(session: &mut Session, message: &[u8], small: &[u8]) -> (usize, usize) {
    let before = held();
    let mut peak = before;
    while session.step_binary(message).is_none() {
        peak = peak.max(held());
    }
    assert_ne!(
        session.on_binary(small),
        "500",
        "{:?}",
        session.last_error()
    );
    (held().saturating_sub(before), peak - before)
}

#[test]
fn huge_messages_leave_no_memory_behind() {
    let models = Models::from_bytes(SILERO_MODEL, Some(CAMPPLUS_MODEL)).unwrap();
    let (speech, rate) = wav_samples(LIBRIVOX_GAPS_WAV);
    assert_eq!(rate, 16_000);
    let small = pcm16_bytes(&speech[..1_600]);

    // 15.9 MiB of speech and silence at 8 kHz to a summary stream: was
    // ~185 MB held until the connection closed.
    let at_8k: Vec<f32> = speech.iter().step_by(2).copied().collect();
    let huge: Vec<u8> = pcm16_bytes(&at_8k)
        .iter()
        .copied()
        .cycle()
        .take(16_670_000)
        .collect();
    let mut summary = Session::for_path("/speech_summary_stream", models.clone()).unwrap();
    assert_eq!(summary.on_text("8000"), "200");
    summary.on_binary(&small);
    let (kept, peak) = kept_after(&mut summary, &huge, &small);
    // State: the frame mask of ~1 000 s (a byte per 30 ms frame), plus
    // buffers of a few seconds kept for the next message.
    assert!(kept < 1_000_000, "summary session kept {kept} bytes");
    assert!(peak < 4_000_000, "summary peak {peak} bytes");

    // A verify stream with a 10 s context: what it keeps is bounded by the
    // context (10 s at 16 kHz = 640 kB), not by the message.
    let template = voiceport::service::create_template(
        &models,
        voiceport::service::AudioBuffer::Pcm16 {
            bytes: &pcm16_bytes(&speech[..10 * 16_000]),
            sample_rate: 16_000,
        },
    )
    .unwrap();
    // The speaker model lays out its weights for a stream's kernels once,
    // on first use, for every session: a stream run before is charged it.
    let mut first = Session::for_path("/voice_verify_stream", models.clone()).unwrap();
    for param in [template.as_str(), "16000", "3"] {
        assert_eq!(first.on_text(param), "200");
    }
    first.on_binary(&pcm16_bytes(&speech[..4 * 16_000]));
    let mut verify = Session::for_path("/voice_verify_stream", models).unwrap();
    for param in [template.as_str(), "16000", "10", "3"] {
        assert_eq!(verify.on_text(param), "200");
    }
    verify.on_binary(&small);
    let minute: Vec<f32> = speech.iter().copied().cycle().take(60 * 16_000).collect();
    let sixty_seconds = pcm16_bytes(&minute);
    let (kept, peak) = kept_after(&mut verify, &sixty_seconds, &small);
    assert!(kept < 1_500_000, "verify session kept {kept} bytes");
    assert!(peak < 30_000_000, "verify peak {peak} bytes");
}
