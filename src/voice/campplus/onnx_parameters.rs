//! The convolution and batch-norm parameters of a CAM++ ONNX export, found
//! by the names of the nodes that use them.

use std::collections::HashMap;

use tract_onnx::data_resolver::FopenDataResolver;
use tract_onnx::pb::{ModelProto, NodeProto, TensorProto};
use tract_onnx::prelude::*;

use super::layers::{Axis, BatchNorm, Conv};
use crate::voice::VoiceError;

/// Nodes and constant tensors of an ONNX graph, indexed by name.
pub(super) struct OnnxParameters {
    nodes: HashMap<String, NodeProto>,
    tensors: HashMap<String, TensorProto>,
}

fn invalid(message: impl Into<String>) -> VoiceError {
    VoiceError::InvalidModel(message.into())
}

impl OnnxParameters {
    /// Parses ONNX protobuf bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VoiceError> {
        let model: ModelProto = tract_onnx::onnx()
            .proto_model_for_read(&mut &bytes[..])
            .map_err(|e| invalid(format!("{e:#}")))?;
        let graph = model
            .graph
            .ok_or_else(|| invalid("the model has no graph"))?;
        let mut tensors: HashMap<String, TensorProto> = graph
            .initializer
            .into_iter()
            .map(|t| (t.name.clone(), t))
            .collect();
        let mut nodes = HashMap::new();
        for node in graph.node {
            match node.op_type.as_str() {
                "Constant" => {
                    let value = node.attribute.iter().find_map(|a| a.t.clone());
                    if let (Some(value), Some(name)) = (value, node.output.first()) {
                        tensors.insert(name.clone(), value);
                    }
                }
                // A cast of a stored tensor (f16 weights widened to f32) is
                // that tensor: it is widened when read.
                "Cast" => {
                    let source = node.input.first().and_then(|i| tensors.get(i)).cloned();
                    if let (Some(source), Some(name)) = (source, node.output.first()) {
                        tensors.insert(name.clone(), source);
                    }
                }
                _ => {
                    nodes.insert(node.name.clone(), node);
                }
            }
        }
        Ok(Self { nodes, tensors })
    }

    /// Whether the graph has a node of this name.
    pub fn has(&self, node: &str) -> bool {
        self.nodes.contains_key(node)
    }

    fn node(&self, name: &str, op_type: &str) -> Result<&NodeProto, VoiceError> {
        self.nodes
            .get(name)
            .filter(|n| n.op_type == op_type)
            .ok_or_else(|| invalid(format!("no {op_type} node named {name}")))
    }

    /// The values and shape of input `index` of `node`, widened to f32.
    fn input(&self, node: &NodeProto, index: usize) -> Result<(Vec<f32>, Vec<usize>), VoiceError> {
        let name = node
            .input
            .get(index)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| invalid(format!("{} lacks input {index}", node.name)))?;
        let proto = self
            .tensors
            .get(name)
            .ok_or_else(|| invalid(format!("{name} is not a stored tensor")))?;
        let failed = |e: TractError| invalid(format!("{name}: {e:#}"));
        let tensor = tract_onnx::tensor::load_tensor(&FopenDataResolver, proto, None)
            .and_then(|t| t.cast_to::<f32>().map(|t| t.into_owned()))
            .map_err(failed)?;
        let values = tensor
            .try_as_plain_ram()
            .and_then(|view| view.as_slice::<f32>())
            .map_err(failed)?
            .to_vec();
        Ok((values, tensor.shape().to_vec()))
    }

    /// The `Conv` node `name` (2-D, or 1-D as an image of height 1).
    pub fn conv(&self, name: &str) -> Result<Conv, VoiceError> {
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
        let attribute = |attribute: &str, default: usize| -> Result<[usize; 2], VoiceError> {
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
        Ok(Conv {
            outputs,
            inputs,
            rows: axis(0),
            columns: axis(1),
            weights,
            bias,
        })
    }

    /// The kernel length of the pooling node `name`.
    pub fn pool_length(&self, name: &str) -> Result<usize, VoiceError> {
        match usizes(self.node(name, "AveragePool")?, "kernel_shape")?[..] {
            [length] if length > 0 => Ok(length),
            ref other => Err(invalid(format!("{name}: kernel {other:?}"))),
        }
    }

    /// The `BatchNormalization` node `name`, folded.
    pub fn batch_norm(&self, name: &str) -> Result<BatchNorm, VoiceError> {
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

/// The integer (or integer list) attribute `name` of `node`; empty if absent.
fn usizes(node: &NodeProto, name: &str) -> Result<Vec<usize>, VoiceError> {
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
