"""Decodes an Ogg Opus file with libopus itself (ctypes, Debian libopus0) at
a given rate, mono (libopus downmixes stereo), pre-skip applied, into a
16-bit WAV: the reference decodes of the Opus decoder-quality test.

opusdec is not used for these: it always decodes at 48 kHz and resamples,
so only libopus's own decode at the endpoint's rate is a like-for-like
reference. Usage: libopus_decode.py <in.opus> <rate> <out.wav>
"""
import ctypes
import struct
import sys
import wave


def ogg_packets(data):
    """Packets of a single-stream Ogg file, in order."""
    packets, partial, at = [], b"", 0
    while at < len(data):
        assert data[at:at + 4] == b"OggS", "lost sync"
        segments = data[at + 26]
        lacing = data[at + 27:at + 27 + segments]
        body = at + 27 + segments
        for size in lacing:
            partial += data[body:body + size]
            body += size
            if size < 255:
                packets.append(partial)
                partial = b""
        at = body
    return packets


def main():
    source, rate, target = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    packets = ogg_packets(open(source, "rb").read())
    head, audio = packets[0], packets[2:]
    pre_skip = struct.unpack("<H", head[10:12])[0] * rate // 48000
    opus = ctypes.CDLL("libopus.so.0")
    opus.opus_decoder_create.restype = ctypes.c_void_p
    error = ctypes.c_int()
    decoder = opus.opus_decoder_create(rate, 1, ctypes.byref(error))
    assert error.value == 0, error.value
    capacity = rate * 120 // 1000
    buffer = (ctypes.c_float * capacity)()
    samples = []
    for packet in audio:
        n = opus.opus_decode_float(ctypes.c_void_p(decoder), packet, len(packet), buffer, capacity, 0)
        assert n > 0, n
        samples.extend(buffer[:n])
    samples = samples[pre_skip:]
    out = wave.open(target, "wb")
    out.setnchannels(1)
    out.setsampwidth(2)
    out.setframerate(rate)
    out.writeframes(b"".join(struct.pack("<h", max(-32768, min(32767, round(s * 32768)))) for s in samples))


if __name__ == "__main__":
    main()
