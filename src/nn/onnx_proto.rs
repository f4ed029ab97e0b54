//! The part of ONNX's protobuf schema (`onnx.proto`) the models are read
//! from: the graph's nodes, their attributes and the stored tensors. Fields
//! not declared here are skipped when decoding.

/// A whole model file.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ModelProto {
    /// The computation graph.
    #[prost(message, optional, tag = "7")]
    pub graph: Option<GraphProto>,
}

/// A graph: nodes in order, and tensors stored beside them.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct GraphProto {
    /// The nodes.
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeProto>,
    /// Stored tensors (weights), by name.
    #[prost(message, repeated, tag = "5")]
    pub initializer: Vec<TensorProto>,
}

/// One operator application.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct NodeProto {
    /// Names of the values it takes.
    #[prost(string, repeated, tag = "1")]
    pub input: Vec<String>,
    /// Names of the values it gives.
    #[prost(string, repeated, tag = "2")]
    pub output: Vec<String>,
    /// The node's own name.
    #[prost(string, tag = "3")]
    pub name: String,
    /// The operator (`Conv`, `Constant`, …).
    #[prost(string, tag = "4")]
    pub op_type: String,
    /// The operator's attributes.
    #[prost(message, repeated, tag = "5")]
    pub attribute: Vec<AttributeProto>,
}

/// A named attribute of a node.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct AttributeProto {
    /// Its name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// A float value.
    #[prost(float, tag = "2")]
    pub f: f32,
    /// An integer value.
    #[prost(int64, tag = "3")]
    pub i: i64,
    /// A tensor value (the value of a `Constant`).
    #[prost(message, optional, tag = "5")]
    pub t: Option<TensorProto>,
    /// A list of integers.
    #[prost(int64, repeated, tag = "8")]
    pub ints: Vec<i64>,
}

/// A tensor stored in the file.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct TensorProto {
    /// Its shape.
    #[prost(int64, repeated, tag = "1")]
    pub dims: Vec<i64>,
    /// Its element type (`TensorProto.DataType`).
    #[prost(int32, tag = "2")]
    pub data_type: i32,
    /// f32 values, when not stored as raw bytes.
    #[prost(float, repeated, tag = "4")]
    pub float_data: Vec<f32>,
    /// f16 bit patterns (among others), when not stored as raw bytes.
    #[prost(int32, repeated, tag = "5")]
    pub int32_data: Vec<i32>,
    /// Its name.
    #[prost(string, tag = "8")]
    pub name: String,
    /// Values as little-endian bytes.
    #[prost(bytes = "vec", tag = "9")]
    pub raw_data: Vec<u8>,
}
