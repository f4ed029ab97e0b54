//! Ogg Opus demultiplexing for streams whose pages may be split anywhere
//! across messages: bytes in, Opus packets out. Page parsing and packet
//! reassembly are the `ogg` crate's; this module only buffers bytes until a
//! page is complete and reads the Opus headers.

use ogg::reading::{BasePacketReader, PageParser};

use super::AudioError;

/// Bytes of an Ogg page header before its segment table.
const PAGE_HEADER: usize = 27;

/// The longest Ogg page: its header, 255 lacing values and 255 × 255 bytes.
pub const MAX_OGG_PAGE_BYTES: usize = PAGE_HEADER + 255 + 255 * 255;

/// What the stream's `OpusHead` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusHead {
    /// Channels of the stream (1 or 2; multistream mappings are refused).
    pub channels: u8,
    /// Samples at 48 kHz to drop from the start of the decoded stream.
    pub pre_skip: u16,
}

/// Turns the bytes of an Ogg Opus stream into Opus audio packets.
pub struct OggOpusDemuxer {
    pending: Vec<u8>,
    packets: BasePacketReader,
    head: Option<OpusHead>,
    tags_seen: bool,
}

impl Default for OggOpusDemuxer {
    fn default() -> Self {
        Self::new()
    }
}

impl OggOpusDemuxer {
    /// A demuxer at the start of a stream.
    pub fn new() -> Self {
        Self {
            pending: Vec::new(),
            packets: BasePacketReader::new(),
            head: None,
            tags_seen: false,
        }
    }

    /// The stream's header, once its first packet has been read.
    pub fn head(&self) -> Option<OpusHead> {
        self.head
    }

    /// Gives back buffer space beyond the bytes still pending.
    pub fn shrink_buffers(&mut self) {
        self.pending.shrink_to_fit();
    }

    /// Bytes held until their page is complete.
    pub fn pending_bytes(&self) -> usize {
        self.pending.len()
    }

    /// Takes more stream bytes; appends every audio packet completed by them.
    ///
    /// A damaged page (bad checksum or header) is dropped whole; bytes that do
    /// not start a page are skipped up to the next `OggS`. Either way the
    /// stream goes on with the next page, so valid pages after garbage are
    /// still read; the first problem met is returned once every complete page
    /// has been read. Pending bytes never exceed one page ([`MAX_OGG_PAGE_BYTES`]),
    /// and no byte is scanned twice.
    pub fn push(&mut self, bytes: &[u8], audio: &mut Vec<Vec<u8>>) -> Result<(), AudioError> {
        self.pending.extend_from_slice(bytes);
        let pending = std::mem::take(&mut self.pending);
        let mut start = 0;
        let mut first_error = None;
        while let Some(step) = next_page(&pending[start..]) {
            let result = match step {
                PageStep::Page(length) => {
                    let page = &pending[start..start + length];
                    start += length;
                    self.take_page(page, audio)
                }
                PageStep::Garbage(length) => {
                    start += length;
                    Err(invalid(
                        "lost Ogg page sync (no `OggS` where a page should start)",
                    ))
                }
            };
            if let Err(error) = result {
                first_error.get_or_insert(error);
            }
        }
        self.pending = pending;
        self.pending.drain(..start);
        first_error.map_or(Ok(()), Err)
    }

    /// Reads one complete page and routes the packets it completes.
    fn take_page(&mut self, page: &[u8], audio: &mut Vec<Vec<u8>>) -> Result<(), AudioError> {
        self.push_page(page)?;
        let mut first_error = None;
        while let Some(packet) = self.packets.read_packet() {
            if let Err(error) = self.take_packet(packet.data, audio) {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn push_page(&mut self, page: &[u8]) -> Result<(), AudioError> {
        let (header, rest) = page.split_at(PAGE_HEADER);
        let header: [u8; PAGE_HEADER] = header.try_into().expect("a page header");
        let (mut parser, segments) = PageParser::new(header).map_err(ogg_error)?;
        let (segment_table, body) = rest.split_at(segments);
        parser.parse_segments(segment_table.to_vec());
        let parsed = parser.parse_packet_data(body.to_vec()).map_err(ogg_error)?;
        self.packets.push_page(parsed).map_err(ogg_error)
    }

    /// Routes one packet: `OpusHead`, then `OpusTags`, then audio. Empty
    /// audio packets carry nothing and are dropped here.
    fn take_packet(&mut self, packet: Vec<u8>, audio: &mut Vec<Vec<u8>>) -> Result<(), AudioError> {
        if self.head.is_none() {
            self.head = Some(parse_head(&packet)?);
        } else if !self.tags_seen {
            if !packet.starts_with(b"OpusTags") {
                return Err(invalid("the second Ogg Opus packet is not `OpusTags`"));
            }
            self.tags_seen = true;
        } else if !packet.is_empty() {
            audio.push(packet);
        }
        Ok(())
    }
}

/// The complete pages of an Ogg stream, in order (bytes outside pages
/// skipped, an incomplete last page left out). Checksums are not checked.
pub fn ogg_pages(mut bytes: &[u8]) -> Vec<&[u8]> {
    let mut pages = Vec::new();
    while let Some(step) = next_page(bytes) {
        let (taken, rest) = match step {
            PageStep::Page(length) => bytes.split_at(length),
            PageStep::Garbage(length) => (&[][..], &bytes[length..]),
        };
        if !taken.is_empty() {
            pages.push(taken);
        }
        bytes = rest;
    }
    pages
}

/// What the bytes at the start of a buffer are.
enum PageStep {
    /// A complete page of this many bytes (its checksum not yet checked).
    Page(usize),
    /// This many bytes that cannot start a page: up to the next `OggS`.
    Garbage(usize),
}

/// Finds what starts `buffer`: `None` while a page is still incomplete.
fn next_page(buffer: &[u8]) -> Option<PageStep> {
    if !buffer.starts_with(b"OggS") {
        let next = buffer
            .windows(4)
            .skip(1)
            .position(|w| w == b"OggS")
            .map(|at| at + 1);
        // Keep a tail that may be the start of a capture pattern.
        let skip = next.unwrap_or_else(|| buffer.len() - capture_prefix_at_end(buffer));
        return (skip > 0).then_some(PageStep::Garbage(skip));
    }
    if buffer.len() < PAGE_HEADER {
        return None;
    }
    let segments = usize::from(buffer[PAGE_HEADER - 1]);
    let lacing = buffer.get(PAGE_HEADER..PAGE_HEADER + segments)?;
    let body: usize = lacing.iter().map(|&l| usize::from(l)).sum();
    let length = PAGE_HEADER + segments + body;
    (buffer.len() >= length).then_some(PageStep::Page(length))
}

/// The length of the longest end of `buffer` (at most 3 bytes) that begins `OggS`.
fn capture_prefix_at_end(buffer: &[u8]) -> usize {
    (1..=3)
        .rev()
        .find(|&n| buffer.len() >= n && buffer.ends_with(&b"OggS"[..n]))
        .unwrap_or(0)
}

/// Reads an `OpusHead` packet (RFC 7845 §5.1).
fn parse_head(packet: &[u8]) -> Result<OpusHead, AudioError> {
    if packet.len() < 19 || !packet.starts_with(b"OpusHead") {
        return Err(invalid("the first Ogg packet is not an `OpusHead`"));
    }
    if packet[8] >> 4 != 0 {
        return Err(invalid(&format!(
            "unsupported OpusHead version {}",
            packet[8]
        )));
    }
    let channels = packet[9];
    let mapping_family = packet[18];
    if mapping_family != 0 || !(1..=2).contains(&channels) {
        return Err(invalid(&format!(
            "unsupported channel layout ({channels} channels, mapping family {mapping_family}): mono or stereo only"
        )));
    }
    Ok(OpusHead {
        channels,
        pre_skip: u16::from_le_bytes([packet[10], packet[11]]),
    })
}

fn invalid(reason: &str) -> AudioError {
    AudioError::InvalidOpus(format!("Ogg Opus stream: {reason}"))
}

fn ogg_error(error: ogg::OggReadError) -> AudioError {
    invalid(&error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ogg stream: each inner list of packets (each < 255 bytes) is one page.
    fn ogg_stream(pages: &[&[&[u8]]]) -> Vec<u8> {
        let mut writer = ogg::writing::PacketWriter::new(Vec::new());
        for (p, packets) in pages.iter().enumerate() {
            for (i, packet) in packets.iter().enumerate() {
                use ogg::writing::PacketWriteEndInfo::*;
                let end = match (i + 1 == packets.len(), p + 1 == pages.len()) {
                    (true, true) => EndStream,
                    (true, false) => EndPage,
                    _ => NormalPacket,
                };
                writer
                    .write_packet(packet.to_vec(), 7, end, p as u64 * 960)
                    .unwrap();
            }
        }
        writer.into_inner()
    }

    fn head(channels: u8, pre_skip: u16, family: u8) -> Vec<u8> {
        let mut packet = b"OpusHead".to_vec();
        packet.extend([1, channels]);
        packet.extend(pre_skip.to_le_bytes());
        packet.extend(48_000u32.to_le_bytes());
        packet.extend([0, 0, family]);
        packet
    }

    fn stream() -> Vec<u8> {
        ogg_stream(&[
            &[&head(2, 312, 0)],
            &[b"OpusTags\0\0\0\0\0\0\0\0"],
            &[&[0xfc, 1, 2, 3], &[0xfc, 4, 5]],
        ])
    }

    #[test]
    fn pages_split_anywhere_give_the_same_packets() {
        let bytes = stream();
        for split in [1, 5, 27, 28, 60, bytes.len() - 1] {
            let mut demuxer = OggOpusDemuxer::new();
            let mut audio = Vec::new();
            demuxer.push(&bytes[..split], &mut audio).unwrap();
            demuxer.push(&bytes[split..], &mut audio).unwrap();
            assert_eq!(
                audio,
                vec![vec![0xfc, 1, 2, 3], vec![0xfc, 4, 5]],
                "split {split}"
            );
            assert_eq!(
                demuxer.head(),
                Some(OpusHead {
                    channels: 2,
                    pre_skip: 312
                })
            );
        }
    }

    #[test]
    fn a_damaged_page_is_an_error() {
        let mut bytes = stream();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff; // checksum mismatch
        let mut audio = Vec::new();
        let error = OggOpusDemuxer::new().push(&bytes, &mut audio).unwrap_err();
        assert!(matches!(error, AudioError::InvalidOpus(_)), "{error}");
    }

    #[test]
    fn lost_sync_and_foreign_headers_are_errors() {
        let mut audio = Vec::new();
        let mut garbage = b"OggS".to_vec();
        garbage.extend([0; 23]);
        garbage.extend(b"xxxxOggS");
        let mut demuxer = OggOpusDemuxer::new();
        assert!(demuxer.push(&garbage, &mut audio).is_err());

        let multistream = ogg_stream(&[&[&head(3, 0, 1)]]);
        assert!(
            OggOpusDemuxer::new()
                .push(&multistream, &mut audio)
                .is_err()
        );
        let vorbis = ogg_stream(&[&[b"\x01vorbis\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"]]);
        assert!(OggOpusDemuxer::new().push(&vorbis, &mut audio).is_err());
    }
}
