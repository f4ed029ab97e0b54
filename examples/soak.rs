//! Hostile soak: a mixed load of attacks and well-behaved real-time clients
//! against a running voiceport server, then a quiet period. Prints the
//! server's resident memory (idle, peak, after the load), the well-behaved
//! clients' reply latency alone and during the attack, and the model work
//! cancelled (`scripts/soak.sh` starts a release server and runs it).
//!
//! `cargo run --release --example soak -- <addr> <server pid> <seconds>`
//!
//! The attacks, each repeated until the time is up: Ogg pages of empty
//! packets, damaged Ogg pages, 16 MiB messages on connections then left idle,
//! 16 MiB template requests abandoned after a second, 60 s verify windows over
//! 2 MiB messages whose clients leave at once, clients that never read their
//! replies, and 15 MiB text parameters.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    native::main();
}

/// The soak needs sockets and threads; there is nothing to run in wasm.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
#[path = "support/proc_status.rs"]
mod proc_status;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    use futures_util::{SinkExt, StreamExt};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio_tungstenite::tungstenite::Message;
    use voiceport::service::{AudioBuffer, create_template};

    use super::proc_status::memory_mib;

    const SPEECH: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/demo/speaker_a_verify.wav"
    );
    const OGG: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/opus/librivox_64kbps_20ms.opus"
    );
    const HUGE: usize = 16 * 1024 * 1024 - 4096;
    const NORMAL_STREAMS: usize = 20;

    type Socket = tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >;

    /// What every attack and client needs.
    struct Setup {
        addr: String,
        speech_16k: Vec<u8>,
        speech_8k_huge: Vec<u8>,
        template: String,
        empty_packets: Vec<u8>,
        damaged_pages: Vec<u8>,
    }

    fn setup(addr: String) -> Setup {
        let wav = std::fs::read(SPEECH).expect("speech");
        let recording = voiceport::audio::decode_wav(&wav).expect("wav");
        let speech_16k = voiceport::audio::encode_pcm16(&recording.samples);
        let at_8k: Vec<f32> = recording.samples.iter().step_by(2).copied().collect();
        let speech_8k_huge = voiceport::audio::encode_pcm16(&at_8k)
            .into_iter()
            .cycle()
            .take(HUGE)
            .collect();
        let models = voiceport::models::Models::bundled().expect("models");
        let audio = AudioBuffer::Pcm16 {
            bytes: &speech_16k,
            sample_rate: 16_000,
        };
        let template = create_template(&models, audio).expect("template");
        let ogg = std::fs::read(OGG).expect("ogg");
        let pages = voiceport::audio::ogg_pages(&ogg);
        let head = [pages[0], pages[1]].concat();
        let mut empty_packets = head.clone();
        let mut writer = ogg::writing::PacketWriter::new(Vec::new());
        for i in 0..40 * 255 {
            let end = ogg::writing::PacketWriteEndInfo::NormalPacket;
            writer.write_packet(Vec::new(), 1, end, i).expect("page");
        }
        empty_packets.extend(writer.into_inner());
        let mut damaged = pages[5].to_vec();
        damaged[22] ^= 0xff;
        let damaged_pages = [head, damaged.repeat(600)].concat();
        Setup {
            addr,
            speech_16k,
            speech_8k_huge,
            template,
            empty_packets,
            damaged_pages,
        }
    }

    async fn open(setup: &Setup, path: &str, parameters: &[&str]) -> Option<Socket> {
        let url = format!("ws://{}{path}", setup.addr);
        let (mut socket, _) = tokio_tungstenite::connect_async(url).await.ok()?;
        for parameter in parameters {
            socket.send(Message::text(*parameter)).await.ok()?;
            socket.next().await?.ok()?;
        }
        Some(socket)
    }

    /// Sends `message` and waits for its reply (up to 60 s).
    async fn ask(socket: &mut Socket, message: Message) -> Option<String> {
        socket.send(message).await.ok()?;
        let reply = tokio::time::timeout(Duration::from_secs(60), socket.next());
        match reply.await {
            Ok(Some(Ok(Message::Text(text)))) => Some(text.to_string()),
            _ => None,
        }
    }

    /// A well-behaved real-time summary stream: 100 ms of speech every
    /// 100 ms; the latency of every reply.
    async fn normal_client(setup: Arc<Setup>, offset: Duration, until: Instant) -> Vec<Duration> {
        tokio::time::sleep(offset).await;
        let mut latencies = Vec::new();
        let Some(mut socket) = open(&setup, "/speech_summary_stream?frames=new", &["16000"]).await
        else {
            return latencies;
        };
        let mut ticks = tokio::time::interval(Duration::from_millis(100));
        for chunk in setup.speech_16k.chunks_exact(3_200).cycle() {
            ticks.tick().await;
            if Instant::now() >= until {
                break;
            }
            let sent = Instant::now();
            match ask(&mut socket, Message::binary(chunk.to_vec())).await {
                Some(_) => latencies.push(sent.elapsed()),
                None => break,
            }
        }
        latencies
    }

    /// One round of every attack.
    async fn attack_round(setup: &Setup) {
        let ogg_bomb = async {
            if let Some(mut socket) = open(setup, "/speech_summary_stream_opus", &["16000"]).await {
                for _ in 0..20 {
                    let bomb = Message::binary(setup.empty_packets.clone());
                    ask(&mut socket, bomb).await;
                }
            }
        };
        let damaged = async {
            if let Some(mut socket) = open(setup, "/speech_summary_stream_opus", &["16000"]).await {
                for _ in 0..60 {
                    let pages = Message::binary(setup.damaged_pages.clone());
                    ask(&mut socket, pages).await;
                }
            }
        };
        let huge_then_idle = async {
            if let Some(mut socket) = open(setup, "/speech_summary_stream", &["8000"]).await {
                ask(&mut socket, Message::binary(setup.speech_8k_huge.clone())).await;
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        };
        let abandoned_templates = async {
            let path =
                "/voice_template_factory/create_voice_template_from_samples?sample_rate=8000";
            let posts = (0..4).map(|_| async {
                let post = raw_post(&setup.addr, path, &setup.speech_8k_huge);
                let _ = tokio::time::timeout(Duration::from_secs(1), post).await;
            });
            futures_util::future::join_all(posts).await;
        };
        let long_verify = async {
            let parameters = [setup.template.as_str(), "16000", "60", "60"];
            let two_mib: Vec<u8> = setup
                .speech_16k
                .iter()
                .copied()
                .cycle()
                .take(2 << 20)
                .collect();
            let leavers = (0..4).map(|_| async {
                if let Some(mut socket) = open(setup, "/voice_verify_stream", &parameters).await {
                    let _ = socket.send(Message::binary(two_mib.clone())).await;
                }
            });
            futures_util::future::join_all(leavers).await;
        };
        let non_reader = async {
            if let Some(mut socket) = open(setup, "/speech_summary_stream", &["16000"]).await {
                for chunk in setup.speech_16k.chunks(32_000).cycle().take(300) {
                    let send = socket.send(Message::binary(chunk.to_vec()));
                    if tokio::time::timeout(Duration::from_secs(2), send)
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
            }
        };
        let huge_text = async {
            if let Some(mut socket) = open(setup, "/voice_verify_stream", &[]).await {
                ask(&mut socket, Message::text("A".repeat(15 << 20))).await;
            }
        };
        tokio::join!(
            ogg_bomb,
            damaged,
            huge_then_idle,
            abandoned_templates,
            long_verify,
            non_reader,
            huge_text
        );
    }

    async fn raw_post(addr: &str, path: &str, body: &[u8]) {
        let Ok(mut stream) = TcpStream::connect(addr).await else {
            return;
        };
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: soak\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if stream.write_all(head.as_bytes()).await.is_ok() && stream.write_all(body).await.is_ok() {
            let mut response = Vec::new();
            let _ = stream.read_to_end(&mut response).await;
        }
    }

    /// The server's `/health` model-work counts.
    async fn model_work(addr: &str) -> serde_json::Value {
        let Ok(mut stream) = TcpStream::connect(addr).await else {
            return serde_json::Value::Null;
        };
        let request = "GET /health HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n";
        let mut response = String::new();
        if stream.write_all(request.as_bytes()).await.is_ok() {
            let _ = stream.read_to_string(&mut response).await;
        }
        let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
        serde_json::from_str::<serde_json::Value>(body).map_or(serde_json::Value::Null, |health| {
            health["model_work"].clone()
        })
    }

    /// The well-behaved clients for `seconds`, with `attack` running beside them.
    async fn normal_load(
        setup: &Arc<Setup>,
        seconds: u64,
        attack: impl std::future::Future<Output = ()>,
    ) -> Vec<Duration> {
        let until = Instant::now() + Duration::from_secs(seconds);
        let clients: Vec<_> = (0..NORMAL_STREAMS)
            .map(|i| {
                let offset = Duration::from_millis(100 * i as u64 / NORMAL_STREAMS as u64);
                tokio::spawn(normal_client(setup.clone(), offset, until))
            })
            .collect();
        attack.await;
        let mut latencies = Vec::new();
        for client in clients {
            latencies.extend(client.await.unwrap_or_default());
        }
        latencies.sort();
        latencies
    }

    fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
        if sorted.is_empty() {
            return f64::NAN;
        }
        sorted[((sorted.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3
    }

    #[tokio::main]
    pub async fn main() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let usage = "usage: soak <addr> <server pid> <seconds>";
        assert_eq!(args.len(), 3, "{usage}");
        let pid: u32 = args[1].parse().expect(usage);
        let seconds: u64 = args[2].parse().expect(usage);
        let setup = Arc::new(setup(args[0].clone()));
        let idle_rss = memory_mib(pid, "VmRSS:");

        let quiet = normal_load(&setup, 20, async {}).await;
        let until = Instant::now() + Duration::from_secs(seconds);
        let rounds = Arc::new(AtomicUsize::new(0));
        let attack = {
            let (setup, rounds) = (setup.clone(), rounds.clone());
            async move {
                while Instant::now() < until {
                    attack_round(&setup).await;
                    rounds.fetch_add(1, Ordering::Relaxed);
                }
            }
        };
        let attacked = normal_load(&setup, seconds, attack).await;
        let peak_rss = memory_mib(pid, "VmHWM:");
        tokio::time::sleep(Duration::from_secs(15)).await;
        let after_rss = memory_mib(pid, "VmRSS:");
        let work = model_work(&setup.addr).await;

        println!("| measure | value |");
        println!("|---|---|");
        let rounds = rounds.load(Ordering::Relaxed);
        println!("| attack rounds in {seconds} s | {rounds} |");
        println!("| server RSS idle, MiB | {idle_rss:.0} |");
        println!("| server peak RSS, MiB | {peak_rss:.0} |");
        println!("| server RSS 15 s after the load, MiB | {after_rss:.0} |");
        for (name, latencies) in [("alone", &quiet), ("during the attack", &attacked)] {
            println!(
                "| {NORMAL_STREAMS} real-time summary streams {name}: replies, p50 / p99 / max ms | {} · {:.1} / {:.1} / {:.1} |",
                latencies.len(),
                percentile_ms(latencies, 0.5),
                percentile_ms(latencies, 0.99),
                percentile_ms(latencies, 1.0),
            );
        }
        let (done, skipped) = (&work["done"], &work["cancelled"]);
        println!("| model steps run / skipped (client gone) | {done} / {skipped} |");
    }
}
