//! The parameters of a model written out from its ONNX export: convolutions,
//! batch norms and plain tensors, found by the names of the graph's nodes and
//! constants. Only the protobuf is read; no ONNX graph is planned or run.

use std::collections::HashMap;

use super::onnx_proto::{ModelProto, NodeProto, TensorProto};
use half::f16;
use prost::Message;

use super::layers::{Axis, BatchNorm, Conv};

/// Why a model file does not hold the network expected of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvalidModel(pub String);

/// An [`InvalidModel`] with this message.
pub(crate) fn invalid(message: impl Into<String>) -> InvalidModel {
    InvalidModel(message.into())
}

/// Nodes and constant tensors of an ONNX graph, indexed by name.
pub(crate) struct OnnxParameters {
    nodes: HashMap<String, NodeProto>,
    tensors: HashMap<String, TensorProto>,
    /// Outputs of `Cast` nodes (f16 weights widened to f32), by the stored
    /// tensor they cast: the tensor is widened when read.
    casts: HashMap<String, String>,
}

impl OnnxParameters {
    /// Parses ONNX protobuf bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, InvalidModel> {
        let model = ModelProto::decode(bytes).map_err(|e| invalid(format!("not ONNX: {e}")))?;
        let graph = model
            .graph
            .ok_or_else(|| invalid("the model has no graph"))?;
        let mut tensors: HashMap<String, TensorProto> = graph
            .initializer
            .into_iter()
            .map(|t| (t.name.clone(), t))
            .collect();
        let mut nodes = HashMap::new();
        let mut casts = HashMap::new();
        for mut node in graph.node {
            match node.op_type.as_str() {
                "Constant" => {
                    let value = node.attribute.iter_mut().find_map(|a| a.t.take());
                    if let (Some(value), Some(name)) = (value, node.output.first()) {
                        tensors.insert(name.clone(), value);
                    }
                }
                "Cast" => {
                    if let (Some(source), Some(name)) = (node.input.first(), node.output.first()) {
                        casts.insert(name.clone(), source.clone());
                    }
                }
                _ => {
                    nodes.insert(node.name.clone(), node);
                }
            }
        }
        Ok(Self {
            nodes,
            tensors,
            casts,
        })
    }

    /// Whether the graph has a node of this name.
    pub fn has(&self, node: &str) -> bool {
        self.nodes.contains_key(node)
    }

    fn node(&self, name: &str, op_type: &str) -> Result<&NodeProto, InvalidModel> {
        self.nodes
            .get(name)
            .filter(|n| n.op_type == op_type)
            .ok_or_else(|| invalid(format!("no {op_type} node named {name}")))
    }

    /// The values and shape of input `index` of `node`, widened to f32.
    fn input(
        &self,
        node: &NodeProto,
        index: usize,
    ) -> Result<(Vec<f32>, Vec<usize>), InvalidModel> {
        let name = node
            .input
            .get(index)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| invalid(format!("{} lacks input {index}", node.name)))?;
        self.tensor(name)
    }

    /// The values and shape of the stored tensor (or cast of one) `name`,
    /// widened to f32.
    pub fn tensor(&self, name: &str) -> Result<(Vec<f32>, Vec<usize>), InvalidModel> {
        let stored = self.casts.get(name).map_or(name, String::as_str);
        let proto = self
            .tensors
            .get(stored)
            .ok_or_else(|| invalid(format!("{name} is not a stored tensor")))?;
        let shape = proto
            .dims
            .iter()
            .map(|&d| usize::try_from(d))
            .collect::<Result<Vec<usize>, _>>()
            .map_err(|_| invalid(format!("{name}: dimensions {:?}", proto.dims)))?;
        let values = widened(proto).map_err(|e| invalid(format!("{name}: {e}")))?;
        let expected = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if expected != Some(values.len()) {
            return Err(invalid(format!(
                "{name}: {} values for shape {shape:?}",
                values.len()
            )));
        }
        Ok((values, shape))
    }

    /// The `Conv` node `name` (2-D, or 1-D as an image of height 1).
    pub fn conv(&self, name: &str) -> Result<Conv, InvalidModel> {
        let node = self.node(name, "Conv")?;
        let (weights, shape) = self.input(node, 1)?;
        let (outputs, inputs, kernel) = match shape[..] {
            [o, i, k] => (o, i, [1, k]),
            [o, i, kh, kw] => (o, i, [kh, kw]),
            _ => return Err(invalid(format!("{name}: weights of shape {shape:?}"))),
        };
        let bias = match node.input.get(2) {
            Some(_) => Some(self.input(node, 2)?.0),
            None => None,
        };
        if bias.as_ref().is_some_and(|b| b.len() != outputs) {
            return Err(invalid(format!(
                "{name}: bias does not match {outputs} outputs"
            )));
        }
        if !matches!(usizes(node, "group")?[..], [] | [1]) {
            return Err(invalid(format!(
                "{name}: grouped convolutions are not supported"
            )));
        }
        let one_d = shape.len() == 3;
        let attribute = |attribute: &str, default: usize| -> Result<[usize; 2], InvalidModel> {
            let values = usizes(node, attribute)?;
            let unsupported = || invalid(format!("{name}: unsupported {attribute} {values:?}"));
            match (one_d, attribute, &values[..]) {
                (_, _, []) => Ok([default, default]),
                (true, "pads", &[begin, end]) if begin == end => Ok([0, begin]),
                (true, _, &[w]) if attribute != "pads" => Ok([1, w]),
                (false, "pads", &[top, left, bottom, right]) if top == bottom && left == right => {
                    Ok([top, left])
                }
                (false, _, &[h, w]) if attribute != "pads" => Ok([h, w]),
                _ => Err(unsupported()),
            }
        };
        let (strides, pads, dilations) = (
            attribute("strides", 1)?,
            attribute("pads", 0)?,
            attribute("dilations", 1)?,
        );
        let axis = |i: usize| Axis {
            kernel: kernel[i],
            stride: strides[i],
            padding: pads[i],
            dilation: dilations[i],
        };
        if strides.contains(&0) || dilations.contains(&0) || kernel.contains(&0) {
            return Err(invalid(format!("{name}: zero stride, dilation or kernel")));
        }
        if outputs == 0 || inputs == 0 {
            return Err(invalid(format!("{name}: no input or output channels")));
        }
        let geometry = [strides, pads, dilations, kernel];
        if geometry.iter().flatten().any(|&v| v > MAX_GEOMETRY) {
            return Err(invalid(format!(
                "{name}: geometry {geometry:?} out of range"
            )));
        }
        Ok(Conv::new(
            (outputs, inputs),
            (axis(0), axis(1)),
            weights,
            bias,
        ))
    }

    /// The kernel length of the pooling node `name`.
    pub fn pool_length(&self, name: &str) -> Result<usize, InvalidModel> {
        match usizes(self.node(name, "AveragePool")?, "kernel_shape")?[..] {
            [length] if length > 0 => Ok(length),
            ref other => Err(invalid(format!("{name}: kernel {other:?}"))),
        }
    }

    /// The `BatchNormalization` node `name`, folded.
    pub fn batch_norm(&self, name: &str) -> Result<BatchNorm, InvalidModel> {
        let node = self.node(name, "BatchNormalization")?;
        let [gamma, beta, mean, var] =
            [1, 2, 3, 4].map(|i| self.input(node, i).map(|(values, _)| values));
        let (gamma, beta, mean, var) = (gamma?, beta?, mean?, var?);
        if [beta.len(), mean.len(), var.len()] != [gamma.len(); 3] {
            return Err(invalid(format!("{name}: parameters of different lengths")));
        }
        let epsilon = node
            .attribute
            .iter()
            .find(|a| a.name == "epsilon")
            .map_or(1e-5, |a| a.f);
        Ok(BatchNorm::fold(&gamma, &beta, &mean, &var, epsilon))
    }
}

/// Largest stride, padding, dilation or kernel size accepted (far beyond any
/// real model; keeps the arithmetic on input lengths from overflowing).
const MAX_GEOMETRY: usize = 1 << 16;

/// ONNX `TensorProto.DataType` codes of the element types weights come in.
const FLOAT: i32 = 1;
const FLOAT16: i32 = 10;

/// The values of an f32 or f16 tensor stored in the model file, as f32.
fn widened(proto: &TensorProto) -> Result<Vec<f32>, String> {
    let raw = &proto.raw_data;
    match proto.data_type {
        FLOAT if !raw.is_empty() => Ok(raw
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()),
        FLOAT => Ok(proto.float_data.clone()),
        FLOAT16 if !raw.is_empty() => Ok(raw
            .chunks_exact(2)
            .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect()),
        // Without raw data, f16 values are the low 16 bits of `int32_data`.
        FLOAT16 => Ok(proto
            .int32_data
            .iter()
            .map(|&bits| f16::from_bits(bits as u16).to_f32())
            .collect()),
        other => Err(format!("element type {other} is not a float")),
    }
}

/// The integer (or integer list) attribute `name` of `node`; empty if absent.
fn usizes(node: &NodeProto, name: &str) -> Result<Vec<usize>, InvalidModel> {
    let Some(attribute) = node.attribute.iter().find(|a| a.name == name) else {
        return Ok(Vec::new());
    };
    let values = if attribute.ints.is_empty() {
        vec![attribute.i]
    } else {
        attribute.ints.clone()
    };
    values
        .into_iter()
        .map(|v| usize::try_from(v).map_err(|_| invalid(format!("{}: {name} {v}", node.name))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proto(data_type: i32) -> TensorProto {
        TensorProto {
            data_type,
            ..TensorProto::default()
        }
    }

    #[test]
    fn every_float_storage_is_widened() {
        let values = [1.5f32, -2.25];
        let mut raw32 = proto(FLOAT);
        raw32.raw_data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut listed32 = proto(FLOAT);
        listed32.float_data = values.to_vec();
        let mut raw16 = proto(FLOAT16);
        raw16.raw_data = values
            .iter()
            .flat_map(|&v| f16::from_f32(v).to_le_bytes())
            .collect();
        let mut listed16 = proto(FLOAT16);
        listed16.int32_data = values
            .iter()
            .map(|&v| i32::from(f16::from_f32(v).to_bits()))
            .collect();
        for stored in [raw32, listed32, raw16, listed16] {
            assert_eq!(widened(&stored).unwrap(), values, "{stored:?}");
        }
    }

    #[test]
    fn other_element_types_are_refused() {
        let error = widened(&proto(7)).unwrap_err();
        assert!(error.contains("element type 7"), "{error}");
    }
}
