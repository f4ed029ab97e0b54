//! An LSTM cell run step by step over a sequence, with PyTorch's weight layout and gate order
//! (input, forget, cell, output).

use super::layers::{dot_rows, sigmoid};
use super::onnx::InvalidModel;

/// An LSTM cell: `hidden` units fed by `inputs` values per step.
#[derive(Debug, Clone)]
pub(crate) struct LstmCell {
    inputs: usize,
    hidden: usize,
    /// `4 hidden × inputs`: the input's share of the gates.
    weight_ih: Vec<f32>,
    /// `4 hidden × hidden`: the previous hidden state's share.
    weight_hh: Vec<f32>,
    /// `bias_ih + bias_hh`, one per row.
    bias: Vec<f32>,
}

/// The parameters of an LSTM cell as PyTorch stores them (each with its shape).
pub(crate) struct LstmParameters {
    /// `[4 hidden, inputs]`.
    pub weight_ih: (Vec<f32>, Vec<usize>),
    /// `[4 hidden, hidden]`.
    pub weight_hh: (Vec<f32>, Vec<usize>),
    /// `[4 hidden]`.
    pub bias_ih: (Vec<f32>, Vec<usize>),
    /// `[4 hidden]`.
    pub bias_hh: (Vec<f32>, Vec<usize>),
}

impl LstmCell {
    /// Joins PyTorch's two weight matrices and two biases, checking shapes.
    pub fn new(parameters: LstmParameters) -> Result<Self, InvalidModel> {
        let LstmParameters {
            weight_ih,
            weight_hh,
            bias_ih,
            bias_hh,
        } = parameters;
        let (rows, inputs, hidden) = match (&weight_ih.1[..], &weight_hh.1[..]) {
            (&[rows, inputs], &[rows_hh, hidden])
                if rows == rows_hh && rows == 4 * hidden && inputs > 0 && hidden > 0 =>
            {
                (rows, inputs, hidden)
            }
            (ih, hh) => {
                return Err(InvalidModel(format!(
                    "LSTM weights of shapes {ih:?} and {hh:?}"
                )));
            }
        };
        if bias_ih.0.len() != rows || bias_hh.0.len() != rows {
            return Err(InvalidModel(format!("LSTM biases not of length {rows}")));
        }
        let bias = bias_ih
            .0
            .iter()
            .zip(&bias_hh.0)
            .map(|(a, b)| a + b)
            .collect();
        Ok(Self {
            inputs,
            hidden,
            weight_ih: weight_ih.0,
            weight_hh: weight_hh.0,
            bias,
        })
    }

    /// Values fed per step.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Hidden units (the length of both `h` and `c`).
    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// Runs one step per input of `steps` (each `inputs` long, one after
    /// another), advancing the hidden state `h` and cell state `c`, and calls
    /// `each` with `h` after every step. The inputs' share of the gates is
    /// computed for all steps at once, reading those weights once.
    pub fn run(&self, steps: &[f32], h: &mut [f32], c: &mut [f32], mut each: impl FnMut(&[f32])) {
        assert_eq!(steps.len() % self.inputs, 0, "LSTM input length");
        assert!(
            h.len() == self.hidden && c.len() == self.hidden,
            "LSTM state length"
        );
        let count = steps.len() / self.inputs;
        let mut from_inputs = Vec::new();
        dot_rows(&self.weight_ih, steps, self.inputs, &mut from_inputs);
        let mut gates = Vec::with_capacity(4 * self.hidden);
        for step in 0..count {
            dot_rows(&self.weight_hh, h, self.hidden, &mut gates);
            for (g, (gate, bias)) in gates.iter_mut().zip(&self.bias).enumerate() {
                *gate += from_inputs[g * count + step] + bias;
            }
            let [input, forget, cell, output] =
                [0, 1, 2, 3].map(|g| &gates[g * self.hidden..][..self.hidden]);
            for j in 0..self.hidden {
                c[j] = sigmoid(forget[j]) * c[j] + sigmoid(input[j]) * cell[j].tanh();
                h[j] = sigmoid(output[j]) * c[j].tanh();
            }
            each(h);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shaped(values: &[f32], shape: &[usize]) -> (Vec<f32>, Vec<usize>) {
        (values.to_vec(), shape.to_vec())
    }

    #[test]
    fn one_unit_steps_as_defined() {
        // Rows: input, forget, cell, output gates; columns: x, h.
        let cell = LstmCell::new(LstmParameters {
            weight_ih: shaped(&[0.5, -1.0, 2.0, 1.5], &[4, 1]),
            weight_hh: shaped(&[0.25, 0.5, -0.5, 1.0], &[4, 1]),
            bias_ih: shaped(&[0.1, 0.2, 0.3, 0.4], &[4]),
            bias_hh: shaped(&[0.0, -0.2, 0.1, 0.0], &[4]),
        })
        .unwrap();
        let (x, h0, c0) = (0.8f32, -0.3f32, 0.6f32);
        let gate = |w: f32, u: f32, b: f32| w * x + u * h0 + b;
        let i = sigmoid(gate(0.5, 0.25, 0.1));
        let f = sigmoid(gate(-1.0, 0.5, 0.0));
        let g = gate(2.0, -0.5, 0.4).tanh();
        let o = sigmoid(gate(1.5, 1.0, 0.4));
        let c1 = f * c0 + i * g;
        let h1 = o * c1.tanh();
        let (mut h, mut c) = ([h0], [c0]);
        let mut reported = Vec::new();
        cell.run(&[x], &mut h, &mut c, |h| reported.extend_from_slice(h));
        assert!((c[0] - c1).abs() < 1e-6, "c {} against {c1}", c[0]);
        assert!((h[0] - h1).abs() < 1e-6, "h {} against {h1}", h[0]);
        assert_eq!(reported, h);
    }

    #[test]
    fn a_run_of_steps_equals_the_steps_one_at_a_time() {
        let values = |n: usize, scale: f32| (0..n).map(|i| (i as f32 * scale).sin()).collect();
        let (inputs, hidden) = (3, 2);
        let cell = LstmCell::new(LstmParameters {
            weight_ih: (values(8 * inputs, 0.7), vec![4 * hidden, inputs]),
            weight_hh: (values(8 * hidden, 1.3), vec![4 * hidden, hidden]),
            bias_ih: (values(4 * hidden, 0.4), vec![4 * hidden]),
            bias_hh: (values(4 * hidden, 2.1), vec![4 * hidden]),
        })
        .unwrap();
        let steps: Vec<f32> = values(5 * inputs, 0.9);
        let (mut h, mut c) = (vec![0.1, -0.2], vec![0.3, 0.0]);
        let mut together = Vec::new();
        cell.run(&steps, &mut h, &mut c, |h| together.extend_from_slice(h));
        let (mut h1, mut c1) = (vec![0.1, -0.2], vec![0.3, 0.0]);
        let mut one_by_one = Vec::new();
        for step in steps.chunks(inputs) {
            cell.run(step, &mut h1, &mut c1, |h| one_by_one.extend_from_slice(h));
        }
        assert_eq!(together.len(), 5 * hidden);
        assert_eq!(together, one_by_one);
        assert_eq!((h, c), (h1, c1));
        assert_ne!(together[..hidden], together[hidden..2 * hidden]);
    }

    #[test]
    fn mismatched_shapes_are_rejected() {
        let cell = |ih: &[usize], hh: &[usize]| {
            LstmCell::new(LstmParameters {
                weight_ih: shaped(&vec![0.0; ih.iter().product()], ih),
                weight_hh: shaped(&vec![0.0; hh.iter().product()], hh),
                bias_ih: shaped(&[0.0; 4], &[4]),
                bias_hh: shaped(&[0.0; 4], &[4]),
            })
        };
        assert!(cell(&[4, 2], &[4, 1]).is_ok());
        for (ih, hh) in [([4, 2], [4, 2]), ([4, 0], [4, 1]), ([0, 2], [0, 0])] {
            let error = cell(&ih, &hh).unwrap_err();
            assert!(error.0.contains("LSTM weights"), "{ih:?} {hh:?}: {error:?}");
        }
    }
}
