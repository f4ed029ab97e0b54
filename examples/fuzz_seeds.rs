//! Writes seed inputs for the fuzz targets (`scripts/fuzz.sh`) into the
//! directory given as the only argument, one sub-directory per target, in
//! each target's input layout (see `fuzz/fuzz_targets/`).

use std::fs;
use std::path::Path;

use voiceport::audio::{OggOpusDemuxer, decode_wav, ogg_pages};
use voiceport::voice::{Band, EMBEDDING_DIM, SPEAKER_MODEL_ID, VoiceTemplate};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
/// Index of 16000 in `OPUS_RATES` and of the PCM summary stream in `Endpoint::PATHS`.
const OPUS_16K: u8 = 2;
const SUMMARY_STREAM: u8 = 1 << 1;
const ENDPOINT_OPUS: u8 = 4 << 1;

fn main() -> std::io::Result<()> {
    let out = std::env::args()
        .nth(1)
        .expect("usage: fuzz_seeds <directory>");
    let out = Path::new(&out);

    let embedding: Vec<f32> = (0..EMBEDDING_DIM).map(|i| (i as f32).sin()).collect();
    let template =
        VoiceTemplate::new(SPEAKER_MODEL_ID, 4.5, Band::Narrow, &embedding).expect("template");
    fs::write(out.join("template/valid.bin"), template.to_bytes())?;

    let ogg = fs::read(format!("{DATA}/opus/mono16k_32kbps_10ms.opus"))?;
    let mut pages = vec![OPUS_16K];
    pages.extend(length_prefixed(ogg.chunks(255).take(24), u8::MAX));
    fs::write(out.join("opus_input/ogg_pages.bin"), pages)?;
    let mut demuxer = OggOpusDemuxer::new();
    let mut packets = Vec::new();
    demuxer.push(&ogg, &mut packets).expect("fixture demuxes");
    let mut raw = vec![OPUS_16K];
    raw.extend(length_prefixed(
        packets.iter().take(40).map(Vec::as_slice),
        u8::MAX,
    ));
    fs::write(out.join("opus_input/packets.bin"), &raw)?;
    write_hostile_ogg_seeds(&ogg, out)?;

    let wav = fs::read(format!("{DATA}/demo/speaker_a_verify.wav"))?;
    let recording = decode_wav(&wav).expect("fixture decodes");
    let pcm: Vec<u8> = recording.samples[..4_000]
        .iter()
        .flat_map(|s| ((s * 32767.0) as i16).to_le_bytes())
        .collect();
    let mut summary = vec![SUMMARY_STREAM];
    summary.extend(text_message(&recording.sample_rate.to_string()));
    summary.extend(length_prefixed(pcm.chunks(127), 0x7f));
    fs::write(out.join("session/summary.bin"), summary)?;
    let mut endpoint = vec![ENDPOINT_OPUS];
    for text in ["100", "300", "16000"] {
        endpoint.extend(text_message(text));
    }
    endpoint.extend(length_prefixed(
        packets.iter().take(20).map(Vec::as_slice),
        0x7f,
    ));
    fs::write(out.join("session/endpoint_opus.bin"), endpoint)
}

/// Ogg streams of the hostile kinds the demuxer must bound: pages of empty
/// packets, and damaged pages followed by valid ones.
fn write_hostile_ogg_seeds(ogg: &[u8], out: &Path) -> std::io::Result<()> {
    let pages = ogg_pages(ogg);
    let head = [pages[0], pages[1]].concat();
    let mut writer = ogg::writing::PacketWriter::new(Vec::new());
    for i in 0..4 * 255 {
        let end = ogg::writing::PacketWriteEndInfo::NormalPacket;
        writer.write_packet(Vec::new(), 1, end, i).expect("page");
    }
    let empty = [head.clone(), writer.into_inner()].concat();
    let mut seed = vec![OPUS_16K];
    seed.extend(length_prefixed(empty.chunks(255), u8::MAX));
    fs::write(out.join("opus_input/ogg_empty_packets.bin"), seed)?;
    let mut damaged = pages[2].to_vec();
    damaged[22] ^= 0xff;
    let stream = [head, damaged.repeat(3), pages[2..].concat()].concat();
    let mut seed = vec![OPUS_16K];
    seed.extend(length_prefixed(stream.chunks(255), u8::MAX));
    fs::write(out.join("opus_input/ogg_damaged_pages.bin"), seed)
}

/// Messages as a length byte (at most `max`, longer ones cut) and their bytes.
fn length_prefixed<'a>(messages: impl Iterator<Item = &'a [u8]>, max: u8) -> Vec<u8> {
    let mut out = Vec::new();
    for message in messages {
        let message = &message[..message.len().min(usize::from(max))];
        out.push(message.len() as u8);
        out.extend_from_slice(message);
    }
    out
}

/// A session text message: the length byte with the high bit set.
fn text_message(text: &str) -> Vec<u8> {
    let mut out = vec![0x80 | text.len() as u8];
    out.extend_from_slice(text.as_bytes());
    out
}
