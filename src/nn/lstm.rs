//! One step of an LSTM cell, with PyTorch's weight layout and gate order
//! (input, forget, cell, output).

use super::layers::{dot, sigmoid};
use super::onnx::InvalidModel;

/// An LSTM cell: `hidden` units fed by `inputs` values per step.
#[derive(Debug, Clone)]
pub(crate) struct LstmCell {
    inputs: usize,
    hidden: usize,
    /// `4 hidden` rows of `[weight_ih row | weight_hh row]`.
    weights: Vec<f32>,
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
        let weights = weight_ih
            .0
            .chunks_exact(inputs)
            .zip(weight_hh.0.chunks_exact(hidden))
            .flat_map(|(ih, hh)| ih.iter().chain(hh))
            .copied()
            .collect();
        let bias = bias_ih
            .0
            .iter()
            .zip(&bias_hh.0)
            .map(|(a, b)| a + b)
            .collect();
        Ok(Self {
            inputs,
            hidden,
            weights,
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

    /// Advances the hidden state `h` and cell state `c` by one step of `x`.
    pub fn step(&self, x: &[f32], h: &mut [f32], c: &mut [f32]) {
        assert_eq!(x.len(), self.inputs, "LSTM input length");
        assert!(
            h.len() == self.hidden && c.len() == self.hidden,
            "LSTM state length"
        );
        let joined: Vec<f32> = x.iter().chain(h.iter()).copied().collect();
        let gates: Vec<f32> = self
            .weights
            .chunks_exact(joined.len())
            .zip(&self.bias)
            .map(|(row, b)| dot(row, &joined) + b)
            .collect();
        let [input, forget, cell, output] =
            [0, 1, 2, 3].map(|g| &gates[g * self.hidden..][..self.hidden]);
        for j in 0..self.hidden {
            c[j] = sigmoid(forget[j]) * c[j] + sigmoid(input[j]) * cell[j].tanh();
            h[j] = sigmoid(output[j]) * c[j].tanh();
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
        cell.step(&[x], &mut h, &mut c);
        assert!((c[0] - c1).abs() < 1e-6, "c {} against {c1}", c[0]);
        assert!((h[0] - h1).abs() < 1e-6, "h {} against {h1}", h[0]);
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
