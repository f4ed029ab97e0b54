//! Loopback load generator: N concurrent real-time streams against a running
//! voiceport server, each sending 100 ms of speech every 100 ms; prints one
//! CSV row per stream count with reply latency percentiles, for verify
//! streams how often each got a fresh (embedded) result, and the server's
//! peak resident memory (`scripts/bench-load.sh` runs it and plots the curve).
//!
//! `cargo run --release --example load -- <addr> <server pid> <summary|verify> <seconds> <streams>...`

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    native::main();
}

/// The generator needs sockets and threads; there is nothing to run in wasm.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
#[path = "support/proc_status.rs"]
mod proc_status;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::collections::VecDeque;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use futures_util::{SinkExt, StreamExt};
    use tokio::sync::Mutex;
    use tokio_tungstenite::tungstenite::Message;
    use voiceport::service::{AudioBuffer, create_template};

    use super::proc_status::memory_mib;

    const RATE: u32 = 16_000;
    const CHUNK: Duration = Duration::from_millis(100);
    const CHUNK_BYTES: usize = RATE as usize / 10 * 2;
    const SPEECH: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/demo/speaker_a_verify.wav"
    );
    const ENROLL: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/demo/speaker_a_enroll.wav"
    );

    /// What one run of the generator was asked to do.
    struct Plan {
        addr: String,
        server_pid: u32,
        verify: bool,
        seconds: u64,
        stream_counts: Vec<usize>,
    }

    fn plan() -> Plan {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let usage = "usage: load <addr> <server pid> <summary|verify> <seconds> <streams>...";
        assert!(args.len() >= 5, "{usage}");
        Plan {
            addr: args[0].clone(),
            server_pid: args[1].parse().expect(usage),
            verify: args[2] == "verify",
            seconds: args[3].parse().expect(usage),
            stream_counts: args[4..].iter().map(|n| n.parse().expect(usage)).collect(),
        }
    }

    fn pcm16_of_wav(path: &str) -> Vec<u8> {
        let recording =
            voiceport::audio::decode_wav(&std::fs::read(path).expect("wav")).expect("decodes");
        assert_eq!(recording.sample_rate, RATE, "{path} must be 16 kHz");
        voiceport::audio::encode_pcm16(&recording.samples)
    }

    /// The parameters each stream sends first.
    fn parameters(verify: bool) -> Vec<String> {
        if !verify {
            return vec![RATE.to_string()];
        }
        let models = voiceport::models::Models::bundled().expect("models");
        let enroll = pcm16_of_wav(ENROLL);
        let audio = AudioBuffer::Pcm16 {
            bytes: &enroll,
            sample_rate: RATE,
        };
        let template = create_template(&models, audio).expect("template");
        vec![template, RATE.to_string(), "3".into()]
    }

    /// What one stream saw: the latency of every reply, and the intervals
    /// between its fresh verify results (replies with an embedded window).
    #[derive(Default)]
    struct Seen {
        latencies: Vec<Duration>,
        result_gaps: Vec<Duration>,
    }

    /// Whether a verify reply carries a window that was embedded (a score).
    fn has_fresh_result(reply: &str) -> bool {
        serde_json::from_str::<serde_json::Value>(reply)
            .ok()
            .and_then(|value| value.as_array().cloned())
            .is_some_and(|results| {
                results.iter().any(|r| {
                    r["verify_result"]["score"]
                        .as_f64()
                        .is_some_and(|s| s != 0.0)
                })
            })
    }

    /// One real-time stream: what it saw, or why it failed.
    async fn stream(
        url: String,
        parameters: Arc<Vec<String>>,
        audio: Arc<Vec<u8>>,
        start_offset: Duration,
        until: Instant,
    ) -> Result<Seen, String> {
        tokio::time::sleep(start_offset).await;
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let (mut sink, mut source) = socket.split();
        for parameter in parameters.iter() {
            sink.send(Message::text(parameter.as_str()))
                .await
                .map_err(|e| e.to_string())?;
            match source.next().await {
                Some(Ok(Message::Text(reply))) if reply.as_str() == "200" => {}
                other => return Err(format!("parameter refused: {other:?}")),
            }
        }
        let sent = Arc::new(Mutex::new(VecDeque::<Instant>::new()));
        let sent_by_sender = sent.clone();
        let sender = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(CHUNK);
            let chunks = audio.chunks_exact(CHUNK_BYTES).cycle();
            for chunk in chunks {
                ticks.tick().await;
                if Instant::now() >= until {
                    break;
                }
                sent_by_sender.lock().await.push_back(Instant::now());
                if sink.send(Message::binary(chunk.to_vec())).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        let mut seen = Seen::default();
        let mut last_fresh: Option<Instant> = None;
        while let Some(Ok(message)) = source.next().await {
            if let Message::Text(reply) = message {
                let Some(at) = sent.lock().await.pop_front() else {
                    return Err("a reply without a message".into());
                };
                seen.latencies.push(at.elapsed());
                if has_fresh_result(reply.as_str()) {
                    let now = Instant::now();
                    if let Some(previous) = last_fresh.replace(now) {
                        seen.result_gaps.push(now - previous);
                    }
                }
            }
        }
        sender.await.map_err(|e| e.to_string())?;
        Ok(seen)
    }

    fn percentile(sorted: &[Duration], p: f64) -> f64 {
        if sorted.is_empty() {
            return f64::NAN;
        }
        let at = ((sorted.len() - 1) as f64 * p).round() as usize;
        sorted[at].as_secs_f64() * 1e3
    }

    /// Runs every stream count in turn and prints a CSV row for each.
    #[tokio::main]
    pub async fn main() {
        let plan = plan();
        let path = if plan.verify {
            "/voice_verify_stream"
        } else {
            "/speech_summary_stream"
        };
        let parameters = Arc::new(parameters(plan.verify));
        let audio = Arc::new(pcm16_of_wav(SPEECH));
        println!(
            "endpoint,streams,replies,failed_streams,p50_ms,p99_ms,max_ms,\
             result_gap_p50_ms,result_gap_p99_ms,result_gap_max_ms,\
             fewest_fresh_results_vs_mean,server_peak_rss_mib"
        );
        let spread = if plan.verify && std::env::var_os("SYNCHRONISED_RESULTS").is_none() {
            Duration::from_secs_f64(voiceport::protocol::VERIFY_HOP_SECONDS)
        } else {
            CHUNK
        };
        for &count in &plan.stream_counts {
            let until = Instant::now() + Duration::from_secs(plan.seconds);
            let tasks: Vec<_> = (0..count)
                .map(|i| {
                    // Spread the streams' starts, as independent clients are:
                    // over one message period, and for verify streams over
                    // one result period (a result is due every 0.5 s of a
                    // stream's audio), so that their results are not all due
                    // in the same 100 ms unless SYNCHRONISED_RESULTS is set.
                    let offset = spread.mul_f64(i as f64 / count as f64);
                    tokio::spawn(stream(
                        format!("ws://{}{path}", plan.addr),
                        parameters.clone(),
                        audio.clone(),
                        offset,
                        until,
                    ))
                })
                .collect();
            let mut latencies = Vec::new();
            let mut gaps = Vec::new();
            let mut fresh_results = Vec::new();
            let mut failed = 0;
            for task in tasks {
                match task.await {
                    Ok(Ok(mut seen)) => {
                        fresh_results.push(seen.result_gaps.len() as f64);
                        latencies.append(&mut seen.latencies);
                        gaps.append(&mut seen.result_gaps);
                    }
                    Ok(Err(reason)) => {
                        eprintln!("stream failed: {reason}");
                        failed += 1;
                    }
                    Err(error) => {
                        eprintln!("stream panicked: {error}");
                        failed += 1;
                    }
                }
            }
            latencies.sort();
            gaps.sort();
            // How evenly results thinned: the stream with the fewest fresh
            // results (gaps between them) against the mean of all streams.
            let mean = fresh_results.iter().sum::<f64>() / fresh_results.len() as f64;
            let fewest = fresh_results.iter().copied().fold(f64::INFINITY, f64::min);
            println!(
                "{},{count},{},{failed},{:.1},{:.1},{:.1},{:.0},{:.0},{:.0},{:.2},{:.0}",
                path.trim_start_matches('/'),
                latencies.len(),
                percentile(&latencies, 0.5),
                percentile(&latencies, 0.99),
                percentile(&latencies, 1.0),
                percentile(&gaps, 0.5),
                percentile(&gaps, 0.99),
                percentile(&gaps, 1.0),
                fewest / mean,
                memory_mib(plan.server_pid, "VmHWM:"),
            );
        }
    }
}
