//! Ogg Opus input under hostile streams: empty or tiny packets cannot turn
//! bytes into unbounded audio, damaged pages are skipped without holding
//! bytes or losing the valid pages after them.

use ogg::writing::{PacketWriteEndInfo, PacketWriter};
use voiceport::audio::{
    AudioInput, MAX_OGG_PAGE_BYTES as MAX_PAGE, OggOpusDemuxer, OpusInput, ogg_audio_budget,
    ogg_pages as pages,
};
use voiceport::protocol::MESSAGE_SLICE_BYTES;

const OGG: &[u8] = include_bytes!("data/opus/librivox_64kbps_20ms.opus");
/// Longest Opus packet, 120 ms, in engine samples.
const MAX_PACKET: usize = 1_920;

/// The fixture's `OpusHead` and `OpusTags` pages followed by `packets`,
/// paged by the `ogg` crate's writer.
fn stream_with(packets: impl Iterator<Item = Vec<u8>>) -> Vec<u8> {
    let fixture = pages(OGG);
    let mut bytes = [fixture[0], fixture[1]].concat();
    let mut writer = PacketWriter::new(Vec::new());
    let serial = u32::from_le_bytes(OGG[14..18].try_into().unwrap());
    for (i, packet) in packets.enumerate() {
        writer
            .write_packet(packet, serial, PacketWriteEndInfo::NormalPacket, i as u64)
            .unwrap();
    }
    writer
        .write_packet(
            vec![0xfc, 0xff, 0xfe],
            serial,
            PacketWriteEndInfo::EndStream,
            0,
        )
        .unwrap();
    // The writer numbers pages from 0: skip the head and tags it never wrote
    // by using its pages only after those two (sequence numbers are not
    // checked by readers of one logical stream).
    bytes.extend(writer.into_inner());
    bytes
}

fn decode(input: &mut OpusInput, message: &[u8]) -> (usize, bool) {
    let mut out = Vec::new();
    let decoded = input.push(message, &mut out);
    (out.len(), decoded.error.is_some())
}

#[test]
fn empty_packets_decode_to_no_audio() {
    // 40 pages of 255 empty packets: was 1 225 s of concealed audio.
    let bomb = stream_with(std::iter::repeat_n(Vec::new(), 40 * 255));
    assert!(bomb.len() < 13_000, "{} bytes", bomb.len());
    let mut input = OpusInput::new(16_000).unwrap();
    let (samples, _) = decode(&mut input, &bomb);
    // Only the last packet (one 20 ms CELT frame) carries audio.
    assert!(samples <= 320, "{samples} samples from empty packets");
}

#[test]
fn tiny_packets_decode_to_at_most_the_budget() {
    // TOC-only packets of every configuration (0-byte frames), and code-3
    // packets announcing 48 frames: each could stand for up to 120 ms.
    let tiny = (0..=255u8).flat_map(|toc| [vec![toc], vec![toc | 3, 48], vec![toc | 3, 0x80 | 48]]);
    let bomb = stream_with(tiny.cycle().take(20_000));
    for message_bytes in [bomb.len(), 4_096, 97] {
        let mut input = OpusInput::new(48_000).unwrap();
        let mut total = 0;
        for message in bomb.chunks(message_bytes) {
            let (samples, _) = decode(&mut input, message);
            // Completed pages are at most one page plus the message; the
            // last packet decoded may pass the budget by one packet.
            let bound = ogg_audio_budget(message.len() + MAX_PAGE) + MAX_PACKET;
            assert!(
                samples <= bound,
                "{samples} samples from {} bytes",
                message.len()
            );
            total += samples;
        }
        let messages = bomb.len().div_ceil(message_bytes);
        let bound = ogg_audio_budget(bomb.len())
            + (messages - 1) * ogg_audio_budget(0)
            + messages * MAX_PACKET;
        assert!(total <= bound, "{total} samples in all");
    }
}

#[test]
fn a_message_worked_through_in_parts_gets_one_allowance() {
    let tiny = (0..=255u8).flat_map(|toc| [vec![toc], vec![toc | 3, 48]]);
    let bomb = stream_with(tiny.cycle().take(30_000));
    assert!(bomb.len() > 2 * MESSAGE_SLICE_BYTES, "{} bytes", bomb.len());
    let mut input = OpusInput::new(48_000).unwrap();
    let mut out = Vec::new();
    let mut error = None;
    for part in bomb.chunks(MESSAGE_SLICE_BYTES) {
        error = error.or(input.push_part(part, &mut out).error);
    }
    input.end_message();
    assert!(error.is_some(), "packets past the allowance are reported");
    // One allowance for the whole message, not one per part.
    let bound = ogg_audio_budget(bomb.len()) + MAX_PACKET;
    assert!(out.len() <= bound, "{} > {bound} samples", out.len());
    // The next message has its own allowance again.
    let (next, _) = decode(&mut input, &bomb[bomb.len() - 4_000..]);
    assert!(next > 0);
}

#[test]
fn undecodable_packets_are_concealed_at_most_once_a_message() {
    let fixture = pages(OGG);
    let mut input = OpusInput::new(16_000).unwrap();
    let (head, _) = decode(&mut input, &[fixture[0], fixture[1], fixture[2]].concat());
    assert!(head > 0);
    // Packets the decoder rejects (code 3 with zero frames is invalid, RFC 6716 §3.2.5).
    let bad = stream_with(std::iter::repeat_n(vec![0xfb, 0x00], 5_000));
    let bad_audio = &bad[pages(&bad)[..2].iter().map(|p| p.len()).sum::<usize>()..];
    let (samples, error) = decode(&mut input, bad_audio);
    assert!(error);
    // One concealed packet (≤ 120 ms) plus the closing 20 ms frame.
    assert!(samples <= 1_920 + 320, "{samples} samples concealed");
}

#[test]
fn the_real_stream_is_never_cut_by_the_budget() {
    for message_bytes in [OGG.len(), 1_000, 61] {
        let mut input = OpusInput::new(16_000).unwrap();
        let mut samples = 0;
        for message in OGG.chunks(message_bytes) {
            let (n, error) = decode(&mut input, message);
            assert!(!error, "messages of {message_bytes} bytes");
            samples += n;
        }
        assert!(samples > 12 * 16_000, "{samples}");
    }
}

/// A copy of `page` whose checksum no longer matches.
fn damaged(page: &[u8]) -> Vec<u8> {
    let mut page = page.to_vec();
    page[22] ^= 0xff;
    page
}

#[test]
fn valid_pages_after_damaged_ones_are_read_and_nothing_piles_up() {
    let fixture = pages(OGG);
    let reference = {
        let mut packets = Vec::new();
        OggOpusDemuxer::new().push(OGG, &mut packets).unwrap();
        packets
    };
    let mut demuxer = OggOpusDemuxer::new();
    let mut packets = Vec::new();
    demuxer
        .push(&[fixture[0], fixture[1]].concat(), &mut packets)
        .unwrap();
    // 60 messages of 600 damaged pages each, as in the report, then garbage
    // without any capture pattern.
    let bad_page = damaged(fixture[5]);
    for _ in 0..60 {
        let message = bad_page.repeat(600);
        assert!(demuxer.push(&message, &mut packets).is_err());
        assert!(
            demuxer.pending_bytes() <= MAX_PAGE,
            "{}",
            demuxer.pending_bytes()
        );
    }
    assert!(demuxer.push(&[0x5a; 100_000], &mut packets).is_err());
    assert_eq!(demuxer.pending_bytes(), 0);
    assert!(packets.is_empty());
    // The valid pages after all that are read, split anywhere.
    let rest: Vec<u8> = fixture[2..].concat();
    for message in rest.chunks(777) {
        demuxer.push(message, &mut packets).unwrap();
    }
    assert_eq!(packets, reference);
}

#[test]
fn damaged_pages_inside_a_message_cost_only_themselves() {
    let fixture = pages(OGG);
    let mut stream = [fixture[0], fixture[1]].concat();
    let mut kept = Vec::new();
    for (i, page) in fixture[2..].iter().enumerate() {
        if i % 5 == 3 {
            stream.extend(damaged(page));
        } else {
            stream.extend_from_slice(page);
            kept.push(*page);
        }
    }
    let mut packets = Vec::new();
    assert!(OggOpusDemuxer::new().push(&stream, &mut packets).is_err());
    // Every packet wholly inside a kept page is there (continued packets
    // across a dropped page may be lost, nothing more).
    let mut expected = Vec::new();
    for page in &kept {
        let mut reader = OggOpusDemuxer::new();
        let mut own = Vec::new();
        let _ = reader.push(&[fixture[0], fixture[1], page].concat(), &mut own);
        expected.extend(own);
    }
    let found = expected.iter().filter(|p| packets.contains(p)).count();
    assert!(
        found * 100 >= expected.len() * 95,
        "{found} of {}",
        expected.len()
    );
}
