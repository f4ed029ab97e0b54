//! The model workers: a fixed pool of threads that runs every piece of model
//! work — WebSocket messages and REST requests alike — one bounded step at a
//! time, in the order the steps were queued.
//!
//! Long work is a sequence of steps ([`ModelWorkers::run_steps`]), and each
//! job queues its next step only when the previous one is done, so the queue
//! serves jobs round robin: a small real-time message waits for at most one
//! step of each other busy job, never for another client's minutes of work.
//! A step whose caller has stopped waiting (its client left, its request was
//! dropped) is skipped when its turn comes, so abandoned work stops at the
//! next step. A fixed set of threads also bounds the allocator arenas and the
//! scratch memory that model work keeps per thread.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde::Serialize;
use thiserror::Error;
use tokio::sync::oneshot;

/// One queued step.
type Job = Box<dyn FnOnce() + Send>;

/// Why a step gave no result.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum WorkFailed {
    /// The step panicked; the panic's message.
    #[error("model work panicked: {0}")]
    Panicked(String),
    /// The pool is shutting down.
    #[error("the model workers have stopped")]
    Stopped,
}

/// Counts of the pool's work, as `/health` reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WorkCounts {
    /// Steps queued and not yet started.
    pub queued: usize,
    /// Steps running now.
    pub running: usize,
    /// Steps run to their end since start.
    pub done: u64,
    /// Steps skipped because their caller had stopped waiting.
    pub cancelled: u64,
}

#[derive(Default)]
struct Counters {
    queued: AtomicUsize,
    running: AtomicUsize,
    done: AtomicU64,
    cancelled: AtomicU64,
}

/// A fixed pool of model-work threads fed by one first-in, first-out queue.
pub struct ModelWorkers {
    queue: Mutex<mpsc::Sender<Job>>,
    counters: Arc<Counters>,
}

impl ModelWorkers {
    /// A pool of `threads` workers (at least one).
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..threads.max(1) {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("voiceport-model-{index}"))
                .spawn(move || serve_queue(&receiver))?;
        }
        Ok(Self {
            queue: Mutex::new(sender),
            counters: Arc::default(),
        })
    }

    /// The pool's counts now.
    pub fn counts(&self) -> WorkCounts {
        let c = &self.counters;
        WorkCounts {
            queued: c.queued.load(Ordering::Relaxed),
            running: c.running.load(Ordering::Relaxed),
            done: c.done.load(Ordering::Relaxed),
            cancelled: c.cancelled.load(Ordering::Relaxed),
        }
    }

    /// Runs `work` as one step on a worker, after every step queued before
    /// it. If the returned future is dropped before the step starts, the
    /// step is skipped.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, WorkFailed> {
        let (done, result) = oneshot::channel();
        let counters = self.counters.clone();
        let span = tracing::Span::current();
        let job: Job = Box::new(move || {
            counters.queued.fetch_sub(1, Ordering::Relaxed);
            if done.is_closed() {
                counters.cancelled.fetch_add(1, Ordering::Relaxed);
                return;
            }
            counters.running.fetch_add(1, Ordering::Relaxed);
            let outcome = catch_unwind(AssertUnwindSafe(|| span.in_scope(work)));
            counters.running.fetch_sub(1, Ordering::Relaxed);
            counters.done.fetch_add(1, Ordering::Relaxed);
            let _ = done.send(outcome.map_err(|panic| panic_message(panic.as_ref())));
        });
        self.counters.queued.fetch_add(1, Ordering::Relaxed);
        let sent = self
            .queue
            .lock()
            .expect("the queue's lock is never poisoned")
            .send(job);
        if sent.is_err() {
            self.counters.queued.fetch_sub(1, Ordering::Relaxed);
            return Err(WorkFailed::Stopped);
        }
        match result.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(message)) => Err(WorkFailed::Panicked(message)),
            Err(_) => Err(WorkFailed::Stopped),
        }
    }

    /// Runs `step` on `state` until it returns a result, one queued step at
    /// a time (so other jobs' steps run in between); returns the state and
    /// the result. Each call of `step` is told how long it waited in the
    /// queue (how far the pool is behind). Dropping the future abandons the
    /// work at its next step.
    pub async fn run_steps<S, T>(
        &self,
        mut state: S,
        step: fn(&mut S, Duration) -> Option<T>,
    ) -> Result<(S, T), WorkFailed>
    where
        S: Send + 'static,
        T: Send + 'static,
    {
        loop {
            let queued = Instant::now();
            let (back, done) = self
                .run(move || {
                    let done = step(&mut state, queued.elapsed());
                    (state, done)
                })
                .await?;
            state = back;
            if let Some(result) = done {
                return Ok((state, result));
            }
        }
    }
}

/// A worker's loop: takes the next step until the pool is dropped.
fn serve_queue(receiver: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        let job = receiver
            .lock()
            .expect("the queue's lock is never poisoned")
            .recv();
        match job {
            Ok(job) => job(),
            Err(mpsc::RecvError) => return,
        }
    }
}

/// The text of a panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;

    use super::*;

    /// Waits until the pool's counts satisfy `ready`.
    async fn until(workers: &ModelWorkers, ready: impl Fn(WorkCounts) -> bool) {
        while !ready(workers.counts()) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    #[tokio::test]
    async fn steps_of_long_jobs_interleave_with_short_work() {
        let workers = Arc::new(ModelWorkers::new(1).unwrap());
        let order = Arc::new(Mutex::new(Vec::new()));
        let gate = Arc::new(AtomicBool::new(false));
        // Two jobs of three steps each; the first step of the first waits at
        // the gate until the short job has been queued behind the second.
        let long = |name: &'static str| {
            let (workers, order, gate) = (workers.clone(), order.clone(), gate.clone());
            tokio::spawn(async move {
                let state = (0, order, name, gate);
                workers
                    .run_steps(state, |(n, order, name, gate), _| {
                        while !gate.load(Ordering::SeqCst) {
                            std::thread::sleep(Duration::from_millis(1));
                        }
                        // Model work takes a while: each job queues its next
                        // step while another job's step runs.
                        std::thread::sleep(Duration::from_millis(20));
                        order.lock().unwrap().push(*name);
                        *n += 1;
                        (*n == 3).then_some(())
                    })
                    .await
                    .unwrap()
            })
        };
        let a = long("a");
        until(&workers, |c| c.running == 1).await;
        let b = long("b");
        until(&workers, |c| c.queued == 1).await;
        let short = {
            let (workers, order) = (workers.clone(), order.clone());
            tokio::spawn(async move {
                workers
                    .run(move || order.lock().unwrap().push("short"))
                    .await
            })
        };
        until(&workers, |c| c.queued == 2).await;
        gate.store(true, Ordering::SeqCst);
        for job in [a, b] {
            job.await.unwrap();
        }
        short.await.unwrap().unwrap();
        let order = order.lock().unwrap();
        assert_eq!(*order, ["a", "b", "short", "a", "b", "a", "b"]);
    }

    #[tokio::test]
    async fn abandoned_work_stops_at_its_next_step() {
        let workers = Arc::new(ModelWorkers::new(1).unwrap());
        let steps = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(AtomicBool::new(false));
        let job = {
            let (workers, steps, release) = (workers.clone(), steps.clone(), release.clone());
            tokio::spawn(async move {
                let state = (steps, release);
                workers
                    .run_steps(state, |(steps, release), _| {
                        steps.fetch_add(1, Ordering::SeqCst);
                        while !release.load(Ordering::SeqCst) {
                            std::thread::sleep(Duration::from_millis(1));
                        }
                        None::<()>
                    })
                    .await
            })
        };
        while steps.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        job.abort();
        let _ = job.await;
        release.store(true, Ordering::SeqCst);
        // The pool goes on with other work; the abandoned job took one step.
        workers.run(|| ()).await.unwrap();
        assert_eq!(steps.load(Ordering::SeqCst), 1);
        assert_eq!(workers.counts().queued, 0);
    }

    #[tokio::test]
    async fn a_panicking_step_is_an_error_and_the_worker_lives_on() {
        let workers = ModelWorkers::new(1).unwrap();
        let failed = workers.run(|| panic!("boom")).await;
        assert_eq!(failed, Err(WorkFailed::Panicked("boom".into())));
        assert_eq!(workers.run(|| 7).await, Ok(7));
    }

    #[tokio::test]
    async fn at_most_the_pool_size_runs_at_once() {
        let workers = Arc::new(ModelWorkers::new(2).unwrap());
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (workers, running, most) = (workers.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    workers
                        .run(move || {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(20));
                            running.fetch_sub(1, Ordering::SeqCst);
                        })
                        .await
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let most = most.load(Ordering::SeqCst);
        assert!((1..=2).contains(&most), "{most} at once");
    }
}
