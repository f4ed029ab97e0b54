//! Which endpoint a connection is for, from its path and query.

use super::ProtocolError;

/// What the endpoint computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointKind {
    /// `/speech_endpoint_detector[_opus]`.
    SpeechEndpoint,
    /// `/speech_summary_stream[_opus]`.
    SpeechSummary,
    /// `/voice_verify_stream[_opus]` (alias `/verify_stream`).
    VoiceVerify,
}

/// How the binary messages are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// Little-endian PCM16 mono.
    Pcm16,
    /// One Opus packet per message, or an Ogg Opus stream.
    Opus,
}

/// Whether summary replies carry every frame or only the new ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FramesMode {
    /// Every frame since the start of the stream (the original's behaviour).
    #[default]
    All,
    /// Only frames completed since the previous reply (`?frames=new`).
    New,
}

/// Query options the original server's clients send that the protocol does
/// not use (the server checks `api_key` itself before the protocol sees it).
pub const IGNORED_OPTIONS: [&str; 2] = ["api_key", "channel_type"];

/// A parsed endpoint: kind, codec and options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// What it computes.
    pub kind: EndpointKind,
    /// How audio is encoded.
    pub codec: Codec,
    /// Summary frame reporting.
    pub frames: FramesMode,
}

impl Endpoint {
    /// Every path served, for routing and docs.
    pub const PATHS: [&'static str; 7] = [
        "/speech_endpoint_detector",
        "/speech_summary_stream",
        "/voice_verify_stream",
        "/verify_stream",
        "/speech_endpoint_detector_opus",
        "/speech_summary_stream_opus",
        "/voice_verify_stream_opus",
    ];

    /// The endpoint's canonical path (aliases folded), e.g. `/voice_verify_stream_opus`.
    pub fn path(&self) -> &'static str {
        let index = match self.kind {
            EndpointKind::SpeechEndpoint => 0,
            EndpointKind::SpeechSummary => 1,
            EndpointKind::VoiceVerify => 2,
        };
        match self.codec {
            Codec::Pcm16 => Self::PATHS[index],
            Codec::Opus => Self::PATHS[4 + index],
        }
    }

    /// Whether this endpoint needs the speaker model (verify stream).
    pub fn needs_speaker_model(&self) -> bool {
        self.kind == EndpointKind::VoiceVerify
    }

    /// Parses a request path with optional URL-encoded query, e.g.
    /// `/speech_summary_stream?frames=new&api_key=k`: `frames` is read,
    /// [`IGNORED_OPTIONS`] are accepted and ignored, any other option is
    /// refused (so a misspelt option is reported, not silently dropped).
    pub fn parse(path_and_query: &str) -> Result<Self, ProtocolError> {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let unknown = || ProtocolError::UnknownEndpoint(path.to_string());
        let path = path.trim_end_matches('/');
        let (base, codec) = match path.strip_suffix("_opus") {
            Some(base) => (base, Codec::Opus),
            None => (path, Codec::Pcm16),
        };
        let kind = match (base, codec) {
            ("/speech_endpoint_detector", _) => EndpointKind::SpeechEndpoint,
            ("/speech_summary_stream", _) => EndpointKind::SpeechSummary,
            ("/voice_verify_stream", _) | ("/verify_stream", Codec::Pcm16) => {
                EndpointKind::VoiceVerify
            }
            _ => return Err(unknown()),
        };
        let mut frames = FramesMode::All;
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            match (name.as_ref(), value.as_ref()) {
                ("frames", "new") => frames = FramesMode::New,
                ("frames", "all") => frames = FramesMode::All,
                (name, _) if IGNORED_OPTIONS.contains(&name) => {}
                (name, value) => {
                    return Err(ProtocolError::InvalidParameter {
                        name: "query",
                        reason: format!(
                            "unsupported option `{}={}` (known: frames=new|all; ignored: {})",
                            super::params::shorten(name),
                            super::params::shorten(value),
                            IGNORED_OPTIONS.join(", ")
                        ),
                    });
                }
            }
        }
        Ok(Self {
            kind,
            codec,
            frames,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paths_and_frames_option() {
        let e = Endpoint::parse("/speech_summary_stream?frames=new").unwrap();
        assert_eq!(
            (e.kind, e.frames),
            (EndpointKind::SpeechSummary, FramesMode::New)
        );
        let e = Endpoint::parse("/speech_endpoint_detector/").unwrap();
        assert_eq!(
            (e.kind, e.frames),
            (EndpointKind::SpeechEndpoint, FramesMode::All)
        );
    }

    #[test]
    fn every_path_has_its_canonical_path() {
        for path in Endpoint::PATHS {
            let canonical = Endpoint::parse(path).unwrap().path();
            let expected = if path == "/verify_stream" {
                "/voice_verify_stream"
            } else {
                path
            };
            assert_eq!(canonical, expected);
        }
    }

    #[test]
    fn rejects_unknown_paths_and_options() {
        assert!(matches!(
            Endpoint::parse("/nope"),
            Err(ProtocolError::UnknownEndpoint(_))
        ));
        assert!(Endpoint::parse("/speech_summary_stream?frames=some").is_err());
        assert!(Endpoint::parse("/speech_summary_stream?frame=new").is_err());
        assert!(Endpoint::parse("/speech_summary_stream?frames").is_err());
    }

    #[test]
    fn queries_are_url_decoded_and_tolerated_options_ignored() {
        let e = Endpoint::parse("/speech_summary_stream?api_key=k%26y&frames=%6Eew").unwrap();
        assert_eq!(e.frames, FramesMode::New);
        let e = Endpoint::parse("/voice_verify_stream?channel_type=mono&api%5Fkey=").unwrap();
        assert_eq!(e.kind, EndpointKind::VoiceVerify);
        let e = Endpoint::parse("/speech_endpoint_detector?&&api_key=a+b&").unwrap();
        assert_eq!(e.frames, FramesMode::All);
    }
}
