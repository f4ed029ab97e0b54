//! How thin the server's verify results run: one interval for every stream.
//!
//! Past capacity a verify stream cannot have a result every hop (0.5 s of
//! audio). Rather than results going missing from whichever streams'
//! messages keep finding the model workers far behind, every stream gets at
//! most one result per the same interval of audio, so results thin evenly
//! and the load the streams ask for stays level instead of swinging between
//! every stream embedding and none. The interval moves with the load: a
//! burst of steps that find the workers very late lengthens it, each step
//! on time shortens it a little, so it settles where very late steps are
//! rare; below capacity it sits at the hop (nothing thinned).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::protocol::{Pace, VERIFY_HOP_SECONDS};

/// Shortest interval: the hop, every result computed.
const SHORTEST: Duration = Duration::from_millis((VERIFY_HOP_SECONDS * 1e3) as u64);
/// Longest interval: however far past capacity, a stream still gets a
/// fresh result about this often.
const LONGEST: Duration = Duration::from_secs(10);
/// How much a burst of very late steps lengthens the interval.
const LENGTHEN: Duration = Duration::from_millis(50);
/// Very late steps within this long of the last lengthening are the same
/// burst (a queue that grew makes every step in it very late at once).
const BURST: Duration = Duration::from_millis(200);
/// How much each step on time shortens the interval: at 800 steps a
/// second (80 streams of 100 ms messages), 0.4 s a second.
const SHORTEN: Duration = Duration::from_micros(500);

/// The server's verify result interval.
#[derive(Debug)]
pub struct ResultThinning {
    late_after: Duration,
    /// Microseconds of audio per result at most.
    interval: AtomicU64,
    /// When the interval was last lengthened, in microseconds since `epoch`.
    lengthened: AtomicU64,
    epoch: Instant,
}

impl ResultThinning {
    /// Thinning driven by steps that are late after waiting `late_after`.
    pub fn new(late_after: Duration) -> Self {
        let epoch = Instant::now();
        Self {
            late_after,
            interval: AtomicU64::new(micros(SHORTEST)),
            // So that the first burst counts.
            lengthened: AtomicU64::new(0),
            epoch: epoch.checked_sub(BURST).unwrap_or(epoch),
        }
    }

    /// The pace of a step that started now after waiting `waited` for the
    /// workers, counted toward the interval.
    pub fn pace(&self, waited: Duration) -> Pace {
        self.pace_at(waited, Instant::now())
    }

    /// [`Self::pace`] for a step that started at `now`.
    fn pace_at(&self, waited: Duration, now: Instant) -> Pace {
        let pace = Pace::of_delay(waited, self.late_after);
        let change = match pace {
            Pace::OnTime => -(micros(SHORTEN) as i64),
            Pace::Late => return pace,
            Pace::VeryLate if self.opens_a_burst(now) => micros(LENGTHEN) as i64,
            Pace::VeryLate => return pace,
        };
        let _ = self
            .interval
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |interval| {
                let next = interval.saturating_add_signed(change);
                Some(next.clamp(micros(SHORTEST), micros(LONGEST)))
            });
        pace
    }

    /// Whether a very late step at `now` is the first of a burst (and, if
    /// so, records when the burst began; of two steps racing to open the
    /// same burst, one does).
    fn opens_a_burst(&self, now: Instant) -> bool {
        let at = micros(now.saturating_duration_since(self.epoch));
        let last = self.lengthened.load(Ordering::Relaxed);
        at >= last + micros(BURST)
            && self
                .lengthened
                .compare_exchange(last, at, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// Seconds of audio per verify result at most, now.
    pub fn interval(&self) -> f64 {
        Duration::from_micros(self.interval.load(Ordering::Relaxed)).as_secs_f64()
    }
}

fn micros(duration: Duration) -> u64 {
    duration.as_micros() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const LATE_AFTER: Duration = Duration::from_millis(50);
    const ON_TIME: Duration = Duration::from_millis(10);
    const LATE: Duration = Duration::from_millis(60);
    const VERY_LATE: Duration = Duration::from_millis(100);

    #[test]
    fn below_capacity_nothing_is_thinned() {
        let thinning = ResultThinning::new(LATE_AFTER);
        let now = Instant::now();
        for _ in 0..100 {
            assert_eq!(thinning.pace_at(ON_TIME, now), Pace::OnTime);
        }
        assert_eq!(thinning.interval(), VERIFY_HOP_SECONDS);
    }

    #[test]
    fn a_burst_of_very_late_steps_lengthens_the_interval_once() {
        let thinning = ResultThinning::new(LATE_AFTER);
        let start = Instant::now();
        for step in 0..40 {
            let now = start + Duration::from_millis(step);
            assert_eq!(thinning.pace_at(VERY_LATE, now), Pace::VeryLate);
        }
        assert_eq!(thinning.interval(), 0.55);
        // The next burst lengthens it again; late steps leave it.
        thinning.pace_at(VERY_LATE, start + BURST * 2);
        thinning.pace_at(LATE, start + BURST * 4);
        assert!((thinning.interval() - 0.6).abs() < 1e-9);
    }

    /// Thinning after `bursts` bursts of very late steps, and when it began.
    fn after_bursts(bursts: u32) -> (ResultThinning, Instant) {
        let thinning = ResultThinning::new(LATE_AFTER);
        let start = Instant::now();
        for burst in 0..bursts {
            thinning.pace_at(VERY_LATE, start + BURST * burst);
        }
        (thinning, start)
    }

    #[test]
    fn steps_on_time_shorten_it_back_to_the_hop_and_no_further() {
        let (thinning, start) = after_bursts(10);
        assert!((thinning.interval() - 1.0).abs() < 1e-9);
        for _ in 0..100 {
            thinning.pace_at(ON_TIME, start);
        }
        assert!((thinning.interval() - 0.95).abs() < 1e-9);
        for _ in 0..10_000 {
            thinning.pace_at(ON_TIME, start);
        }
        assert_eq!(thinning.interval(), VERIFY_HOP_SECONDS);
    }

    #[test]
    fn the_interval_is_bounded() {
        let (thinning, _) = after_bursts(1_000);
        assert_eq!(thinning.interval(), LONGEST.as_secs_f64());
    }
}
