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
    pub const PATHS: [&'static str; 4] = [
        "/speech_endpoint_detector",
        "/speech_summary_stream",
        "/voice_verify_stream",
        "/verify_stream",
    ];

    /// Whether this endpoint needs the speaker model (verify stream).
    pub fn needs_speaker_model(&self) -> bool {
        self.kind == EndpointKind::VoiceVerify
    }

    /// Parses a request path with optional query, e.g. `/speech_summary_stream?frames=new`.
    pub fn parse(path_and_query: &str) -> Result<Self, ProtocolError> {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let unknown = || ProtocolError::UnknownEndpoint(path.to_string());
        let (kind, codec) = match path.trim_end_matches('/') {
            "/speech_endpoint_detector" => (EndpointKind::SpeechEndpoint, Codec::Pcm16),
            "/speech_summary_stream" => (EndpointKind::SpeechSummary, Codec::Pcm16),
            "/voice_verify_stream" | "/verify_stream" => (EndpointKind::VoiceVerify, Codec::Pcm16),
            _ => return Err(unknown()),
        };
        let mut frames = FramesMode::All;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair {
                "frames=new" => frames = FramesMode::New,
                "frames=all" => frames = FramesMode::All,
                other => {
                    return Err(ProtocolError::InvalidParameter {
                        name: "query",
                        reason: format!("unsupported option `{other}` (known: frames=new|all)"),
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
    fn rejects_unknown_paths_and_options() {
        assert!(matches!(
            Endpoint::parse("/nope"),
            Err(ProtocolError::UnknownEndpoint(_))
        ));
        assert!(Endpoint::parse("/speech_summary_stream?frames=some").is_err());
    }
}
