//! The transport-agnostic protocol: one [`Session`] per connection turns text
//! and binary messages into text replies; the streams' cadence and their
//! client-timeline arithmetic live here too (the engines only embed and
//! score). Both faces (native server, browser worker) drive this same type;
//! no protocol rule lives anywhere else.

mod endpoint;
mod error;
pub mod messages;
mod params;
pub mod rest;
mod session;
mod streams;
mod verify;

pub use endpoint::{Codec, Endpoint, EndpointKind, FramesMode};
pub use error::ProtocolError;
pub use session::{MESSAGE_SLICE_BYTES, Session};
pub use streams::{MAX_VERIFIED_SECONDS_PER_MESSAGE, Pace, STARVED_AFTER_SECONDS};
pub use verify::{
    CATCH_UP_SPEECH_SECONDS, MAX_VERIFY_SECONDS, MIN_VERIFY_SPEECH_SECONDS, Scored,
    VERIFY_CONTEXT_SECONDS, VERIFY_HOP_SECONDS, VerifyStream,
};

/// Reply to an accepted parameter.
pub const ACCEPTED: &str = "200";
/// Reply to a rejected parameter or a failed message.
pub const REJECTED: &str = "500";
