//! REST routes, request rules and reply shapes, named as the original
//! server's: the native server and the browser's `fetch`/`XMLHttpRequest`
//! shim answer with these same replies.

use serde::Serialize;

/// One REST route (older names included as aliases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestRoute {
    /// `POST …/create_voice_template_from_samples?sample_rate=N`, raw PCM16 body.
    TemplateFromSamples,
    /// `POST …/create_voice_template_from_file`, multipart WAV.
    TemplateFromFile,
    /// `POST /voice_template_factory/merge_voice_templates`, JSON array.
    MergeTemplates,
    /// `POST /voice_template_matcher/match_voice_templates`, JSON object.
    MatchTemplates,
    /// `POST /speech_summary_engine/get_speech_summary_from_samples?sample_rate=N`.
    SummaryFromSamples,
    /// `POST /speech_summary_engine/get_speech_summary_from_file`, multipart WAV.
    SummaryFromFile,
    /// `POST /voice_template_factory/get_voice_quality_from_samples?sample_rate=N`
    /// (a voiceport extension): enrollment quality of raw PCM16.
    QualityFromSamples,
    /// `POST /voice_template_factory/get_voice_quality_from_file` (a voiceport
    /// extension), multipart WAV.
    QualityFromFile,
    /// `GET /core/get_build_info`.
    BuildInfo,
}

impl RestRoute {
    /// Every route.
    pub const ALL: [RestRoute; 9] = [
        Self::TemplateFromSamples,
        Self::TemplateFromFile,
        Self::MergeTemplates,
        Self::MatchTemplates,
        Self::SummaryFromSamples,
        Self::SummaryFromFile,
        Self::QualityFromSamples,
        Self::QualityFromFile,
        Self::BuildInfo,
    ];

    /// The route's path.
    pub fn path(self) -> &'static str {
        match self {
            Self::TemplateFromSamples => {
                "/voice_template_factory/create_voice_template_from_samples"
            }
            Self::TemplateFromFile => "/voice_template_factory/create_voice_template_from_file",
            Self::MergeTemplates => "/voice_template_factory/merge_voice_templates",
            Self::MatchTemplates => "/voice_template_matcher/match_voice_templates",
            Self::SummaryFromSamples => "/speech_summary_engine/get_speech_summary_from_samples",
            Self::SummaryFromFile => "/speech_summary_engine/get_speech_summary_from_file",
            Self::QualityFromSamples => "/voice_template_factory/get_voice_quality_from_samples",
            Self::QualityFromFile => "/voice_template_factory/get_voice_quality_from_file",
            Self::BuildInfo => "/core/get_build_info",
        }
    }

    /// Older (2.x) names still used by clients for the same route.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Self::TemplateFromSamples => &["/verify_engine/create_voice_template_from_samples"],
            Self::TemplateFromFile => &["/verify_engine/create_voice_template_from_file"],
            _ => &[],
        }
    }

    /// The HTTP method the route answers.
    pub fn method(self) -> &'static str {
        match self {
            Self::BuildInfo => "GET",
            _ => "POST",
        }
    }

    /// Whether the route needs the speaker model (templates from audio).
    pub fn needs_speaker_model(self) -> bool {
        matches!(self, Self::TemplateFromSamples | Self::TemplateFromFile)
    }

    /// Whether the body is a multipart upload with the WAV file in a part.
    pub fn takes_upload(self) -> bool {
        matches!(
            self,
            Self::TemplateFromFile | Self::SummaryFromFile | Self::QualityFromFile
        )
    }

    /// The route a request path names, by its name or an alias.
    pub fn find(path: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|route| route.path() == path || route.aliases().contains(&path))
    }
}

/// Text of the 400 when a multipart body has no audio part.
pub const MISSING_AUDIO_PART: &str = "multipart body has no `wav_file` (or `audio_file`) part";

/// Names of the multipart part that carries the WAV file.
pub const AUDIO_PARTS: [&str; 2] = ["wav_file", "audio_file"];

/// The `sample_rate` of a URL-encoded query (other options are ignored).
pub fn sample_rate(query: &str) -> Result<u32, String> {
    let value = form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "sample_rate")
        .map(|(_, value)| value)
        .ok_or("missing query option `sample_rate`: expected ?sample_rate=<Hz>")?;
    value.trim().parse().map_err(|_| {
        format!(
            "invalid sample_rate `{}`: expected ?sample_rate=<Hz>",
            super::params::shorten(&value)
        )
    })
}

/// A REST reply: status, content type and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestReply {
    /// HTTP status.
    pub status: u16,
    /// The `content-type` header.
    pub content_type: &'static str,
    /// The body.
    pub body: String,
}

/// The body of every error reply: `{"error": reason}`.
#[derive(Debug, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// What was wrong.
    pub error: String,
}

impl RestReply {
    /// 200 with a text body (templates).
    pub fn text(body: String) -> Self {
        Self {
            status: 200,
            content_type: "text/plain; charset=utf-8",
            body,
        }
    }

    /// 200 with a JSON body.
    pub fn json<T: Serialize>(value: &T) -> Self {
        Self {
            status: 200,
            content_type: "application/json",
            body: super::messages::to_json(value),
        }
    }

    /// An error reply `{"error": reason}` with `status`.
    pub fn error(status: u16, reason: impl std::fmt::Display) -> Self {
        Self {
            status,
            content_type: "application/json",
            body: super::messages::to_json(&ErrorBody {
                error: reason.to_string(),
            }),
        }
    }

    /// HTTP 405 with no body, as the server's router answers a wrong method.
    pub fn method_not_allowed() -> Self {
        Self {
            status: 405,
            content_type: "",
            body: String::new(),
        }
    }

    /// HTTP 400 for a client's mistake.
    pub fn bad_request(reason: impl std::fmt::Display) -> Self {
        Self::error(400, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_found_by_name_and_alias() {
        for route in RestRoute::ALL {
            assert_eq!(RestRoute::find(route.path()), Some(route));
            for alias in route.aliases() {
                assert_eq!(RestRoute::find(alias), Some(route));
            }
        }
        assert_eq!(RestRoute::find("/voice_template_factory"), None);
        assert_eq!(RestRoute::find("/core/get_build_info/"), None);
    }

    #[test]
    fn sample_rate_is_read_from_an_encoded_query() {
        assert_eq!(sample_rate("sample_rate=16000"), Ok(16_000));
        assert_eq!(
            sample_rate("channel_type=mono&sample%5Frate=8000&api_key=x"),
            Ok(8_000)
        );
        assert!(sample_rate("").unwrap_err().contains("missing"));
        assert!(
            sample_rate("sample_rate=fast")
                .unwrap_err()
                .contains("`fast`")
        );
        assert!(sample_rate("sample_rate=-1").is_err());
    }

    #[test]
    fn errors_are_json_objects() {
        let reply = RestReply::bad_request("no \"audio\"");
        assert_eq!(reply.status, 400);
        assert_eq!(reply.content_type, "application/json");
        assert_eq!(reply.body, r#"{"error":"no \"audio\""}"#);
    }
}
