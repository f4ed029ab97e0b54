//! Silero VAD v6 (16 kHz), written out from the ONNX export: a learned STFT,
//! four convolutions, one LSTM step and a one-unit classifier per 32 ms.

use crate::nn::layers::{Activation, Conv, sigmoid};
use crate::nn::lstm::{LstmCell, LstmParameters};
use crate::nn::onnx::{InvalidModel, OnnxParameters, invalid};

/// Prefix of every name in the 16 kHz graph of the export.
const PREFIX: &str = "F0::If_0_then_branch__Inline_0__";
/// Samples mirrored past the end of the window before the STFT
/// (the model's `ReflectionPad1d((0, 64))`).
const REFLECTED_SAMPLES: usize = 64;
/// Encoder convolutions.
const ENCODER_LAYERS: usize = 4;

/// The network's parameters; immutable and shared by every stream.
#[derive(Debug)]
pub(super) struct SileroNetwork {
    /// Real parts then imaginary parts of the spectrum, as one convolution.
    stft: Conv,
    encoder: [Conv; ENCODER_LAYERS],
    lstm: LstmCell,
    classifier: Conv,
}

/// The recurrent state of one stream.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct LstmState {
    h: Vec<f32>,
    c: Vec<f32>,
}

impl SileroNetwork {
    /// Reads the parameters and checks that they fit together for a window
    /// of `window` samples.
    pub fn from_parameters(params: &OnnxParameters, window: usize) -> Result<Self, InvalidModel> {
        let conv = |path: &str| params.conv(&format!("{PREFIX}/{path}/Conv"));
        let encoder = [0, 1, 2, 3].map(|i| conv(&format!("encoder/{i}/reparam_conv")));
        let [e0, e1, e2, e3] = encoder;
        let tensor = |name: &str| params.tensor(&format!("{PREFIX}decoder.rnn.{name}"));
        let network = Self {
            stft: conv("stft")?,
            encoder: [e0?, e1?, e2?, e3?],
            lstm: LstmCell::new(LstmParameters {
                weight_ih: tensor("weight_ih")?,
                weight_hh: tensor("weight_hh")?,
                bias_ih: tensor("bias_ih")?,
                bias_hh: tensor("bias_hh")?,
            })?,
            classifier: conv("decoder/decoder/2")?,
        };
        network.check_shapes(window)?;
        Ok(network)
    }

    /// Checks every layer's channels and lengths against the next's.
    fn check_shapes(&self, window: usize) -> Result<(), InvalidModel> {
        let feed = |what: &str, conv: &Conv, channels: usize, length: usize| {
            if conv.inputs != channels {
                return Err(invalid(format!(
                    "{what} takes {} channels, given {channels}",
                    conv.inputs
                )));
            }
            conv.output_size(1, length)
                .map(|(_, length)| (conv.outputs, length))
                .ok_or_else(|| invalid(format!("{what}: kernel longer than its input")))
        };
        let (spectrum, mut length) = feed("stft", &self.stft, 1, window + REFLECTED_SAMPLES)?;
        if spectrum % 2 != 0 {
            return Err(invalid("the STFT gives an odd number of channels"));
        }
        let mut channels = spectrum / 2;
        for conv in &self.encoder {
            (channels, length) = feed("encoder", conv, channels, length)?;
        }
        if (channels, length) != (self.lstm.inputs(), 1) {
            return Err(invalid(format!(
                "the encoder gives {channels} × {length} values, the LSTM takes {}",
                self.lstm.inputs()
            )));
        }
        if feed("classifier", &self.classifier, self.lstm.hidden(), 1)? != (1, 1) {
            return Err(invalid("the classifier does not give one value"));
        }
        Ok(())
    }

    /// The zero state a stream starts from.
    pub fn initial_state(&self) -> LstmState {
        LstmState {
            h: vec![0.0; self.lstm.hidden()],
            c: vec![0.0; self.lstm.hidden()],
        }
    }

    /// Appends the speech probability of each of `windows` (each the
    /// previous frame's last samples, then a new frame), in order, advancing
    /// `state`. The convolutions run on all windows at once.
    pub fn run(&self, windows: &[&[f32]], state: &mut LstmState, probs: &mut Vec<f32>) {
        let signals: Vec<Activation> = windows.iter().map(|w| reflected(w)).collect();
        let mut features: Vec<Activation> = self
            .stft
            .apply_to_each(&signals)
            .iter()
            .map(magnitudes)
            .collect();
        for conv in &self.encoder {
            features = conv.apply_to_each(&features);
            features.iter_mut().for_each(Activation::relu);
        }
        let steps: Vec<f32> = features.into_iter().flat_map(|f| f.values).collect();
        self.lstm.run(&steps, &mut state.h, &mut state.c, |h| {
            let hidden = Activation {
                channels: h.len(),
                height: 1,
                width: 1,
                values: h.iter().map(|h| h.max(0.0)).collect(),
            };
            let logit = self.classifier.apply_to_each(&[hidden])[0].values[0];
            probs.push(sigmoid(logit));
        });
    }
}

/// `window` as a one-channel signal, its end mirrored (the model's padding).
fn reflected(window: &[f32]) -> Activation {
    let mut padded = Vec::with_capacity(window.len() + REFLECTED_SAMPLES);
    padded.extend_from_slice(window);
    padded.extend(window.iter().rev().skip(1).take(REFLECTED_SAMPLES));
    Activation {
        channels: 1,
        height: 1,
        width: padded.len(),
        values: padded,
    }
}

/// The magnitudes of a spectrum given as real parts, then imaginary parts.
fn magnitudes(spectrum: &Activation) -> Activation {
    let bins = spectrum.channels / 2;
    let (real, imaginary) = spectrum.values.split_at(bins * spectrum.width);
    Activation {
        channels: bins,
        height: 1,
        width: spectrum.width,
        values: real
            .iter()
            .zip(imaginary)
            .map(|(re, im)| (re * re + im * im).sqrt())
            .collect(),
    }
}
