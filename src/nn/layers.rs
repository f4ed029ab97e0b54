//! Dot products, convolution and batch norm over channel-major `[channels][height][width]`
//! activations (a 1-D signal is an image of height 1).

use std::borrow::Cow;
use std::mem::MaybeUninit;

use super::Precision;
#[cfg(direct_kernels)]
use super::direct;

/// The logistic function.
pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Lanes of the partial sums of every dot product.
const LANES: usize = 8;

/// Every row of `rows` (each `depth` long) against every vector of `vectors`
/// (each `depth` long, one after another): `out[r · n + v] = rows[r] · vectors[v]`
/// for `n` vectors. Blocks of rows and vectors are multiplied together, so each
/// value loaded serves several products and a batch of vectors costs little
/// more memory traffic than one. Every product is summed the same way
/// whatever the block (in [`LANES`] interleaved lanes, which the compiler
/// turns into vector instructions; with AVX2 on x86-64 CPUs that have it), so
/// a value never depends on the batch it was computed in.
pub(crate) fn dot_rows(rows: &[f32], vectors: &[f32], depth: usize, out: &mut Vec<f32>) {
    out.clear();
    if depth == 0 {
        return;
    }
    out.resize(rows.len() / depth * (vectors.len() / depth), 0.0);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU was just checked for AVX2.
        return unsafe { dot_rows_avx2(rows, vectors, depth, out) };
    }
    dot_rows_in_blocks(rows, vectors, depth, out);
}

/// [`dot_rows_in_blocks`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dot_rows_avx2(rows: &[f32], vectors: &[f32], depth: usize, out: &mut [f32]) {
    dot_rows_in_blocks(rows, vectors, depth, out);
}

/// The body of [`dot_rows`]: two rows by four vectors at a time where there
/// are four vectors left, else four rows by one vector; the rest one by one.
#[inline(always)]
fn dot_rows_in_blocks(rows: &[f32], vectors: &[f32], depth: usize, out: &mut [f32]) {
    let count = vectors.len() / depth;
    let rows: Vec<&[f32]> = rows.chunks_exact(depth).collect();
    let vectors: Vec<&[f32]> = vectors.chunks_exact(depth).collect();
    let mut store = |r: usize, v: usize, value: f32| out[r * count + v] = value;
    let quads = count / 4 * 4;
    let pairs = rows.len() / 2 * 2;
    for v in (0..quads).step_by(4) {
        let four = [vectors[v], vectors[v + 1], vectors[v + 2], vectors[v + 3]];
        for r in (0..pairs).step_by(2) {
            for (i, values) in two_by_four([rows[r], rows[r + 1]], four).iter().enumerate() {
                (0..4).for_each(|k| store(r + i, v + k, values[k]));
            }
        }
        for (r, row) in rows.iter().enumerate().skip(pairs) {
            (0..4).for_each(|k| store(r, v + k, one_by_one(row, four[k])));
        }
    }
    let fours = rows.len() / 4 * 4;
    for (v, vector) in vectors.iter().enumerate().skip(quads) {
        for r in (0..fours).step_by(4) {
            let four = [rows[r], rows[r + 1], rows[r + 2], rows[r + 3]];
            for (i, value) in four_by_one(four, vector).into_iter().enumerate() {
                store(r + i, v, value);
            }
        }
        for (r, row) in rows.iter().enumerate().skip(fours) {
            store(r, v, one_by_one(row, vector));
        }
    }
}

/// `x` as whole chunks of [`LANES`] values, the first `chunks` of them.
#[inline(always)]
fn lanes(x: &[f32], chunks: usize) -> &[[f32; LANES]] {
    &x.as_chunks::<LANES>().0[..chunks]
}

/// `sums[lane] += x[lane] · y[lane]` for every lane.
#[inline(always)]
fn add_lane_products(sums: &mut [f32; LANES], x: &[f32; LANES], y: &[f32; LANES]) {
    for lane in 0..LANES {
        sums[lane] += x[lane] * y[lane];
    }
}

/// A dot product from the lane sums of its whole chunks, adding the tail.
/// Kept out of line: inlined eight times, it crowds the accumulators of the
/// blocks out of their registers.
#[inline(never)]
fn finish(sums: [f32; LANES], x: &[f32], y: &[f32]) -> f32 {
    let done = x.len() / LANES * LANES;
    let tail = x[done..].iter().zip(&y[done..]).map(|(x, y)| x * y);
    sum_lanes(sums) + tail.sum::<f32>()
}

/// One row by one vector.
#[inline(always)]
fn one_by_one(row: &[f32], vector: &[f32]) -> f32 {
    let chunks = row.len() / LANES;
    let mut sums = [0.0f32; LANES];
    for (x, y) in lanes(row, chunks).iter().zip(lanes(vector, chunks)) {
        add_lane_products(&mut sums, x, y);
    }
    finish(sums, row, vector)
}

/// Four rows by one vector. The accumulators are separate variables, not an
/// array, so that the compiler keeps each in a register.
#[inline(always)]
fn four_by_one(rows: [&[f32]; 4], vector: &[f32]) -> [f32; 4] {
    let chunks = vector.len() / LANES;
    let [r0, r1, r2, r3] = rows.map(|row| lanes(row, chunks));
    let v = lanes(vector, chunks);
    let [mut s0, mut s1, mut s2, mut s3] = [[0.0f32; LANES]; 4];
    for i in 0..chunks {
        add_lane_products(&mut s0, &r0[i], &v[i]);
        add_lane_products(&mut s1, &r1[i], &v[i]);
        add_lane_products(&mut s2, &r2[i], &v[i]);
        add_lane_products(&mut s3, &r3[i], &v[i]);
    }
    [
        finish(s0, rows[0], vector),
        finish(s1, rows[1], vector),
        finish(s2, rows[2], vector),
        finish(s3, rows[3], vector),
    ]
}

/// Two rows by four vectors (eight accumulators, as [`four_by_one`]).
#[inline(always)]
fn two_by_four(rows: [&[f32]; 2], vectors: [&[f32]; 4]) -> [[f32; 4]; 2] {
    let chunks = rows[0].len() / LANES;
    let [r0, r1] = rows.map(|row| lanes(row, chunks));
    let [v0, v1, v2, v3] = vectors.map(|vector| lanes(vector, chunks));
    let [mut s00, mut s01, mut s02, mut s03] = [[0.0f32; LANES]; 4];
    let [mut s10, mut s11, mut s12, mut s13] = [[0.0f32; LANES]; 4];
    for i in 0..chunks {
        add_lane_products(&mut s00, &r0[i], &v0[i]);
        add_lane_products(&mut s01, &r0[i], &v1[i]);
        add_lane_products(&mut s02, &r0[i], &v2[i]);
        add_lane_products(&mut s03, &r0[i], &v3[i]);
        add_lane_products(&mut s10, &r1[i], &v0[i]);
        add_lane_products(&mut s11, &r1[i], &v1[i]);
        add_lane_products(&mut s12, &r1[i], &v2[i]);
        add_lane_products(&mut s13, &r1[i], &v3[i]);
    }
    let [x0, x1] = rows;
    let [y0, y1, y2, y3] = vectors;
    [
        [
            finish(s00, x0, y0),
            finish(s01, x0, y1),
            finish(s02, x0, y2),
            finish(s03, x0, y3),
        ],
        [
            finish(s10, x1, y0),
            finish(s11, x1, y1),
            finish(s12, x1, y2),
            finish(s13, x1, y3),
        ],
    ]
}

/// The sum of `values`, added in [`LANES`] running sums (vector
/// instructions, and no chain of additions each waiting for the last).
pub(crate) fn sum(values: &[f32]) -> f32 {
    let (chunks, tail) = values.as_chunks::<LANES>();
    let mut sums = [0.0f32; LANES];
    for chunk in chunks {
        for lane in 0..LANES {
            sums[lane] += chunk[lane];
        }
    }
    sum_lanes(sums) + tail.iter().sum::<f32>()
}

/// The sum of the lanes, added pairwise (a tree the compiler vectorizes).
#[inline(always)]
fn sum_lanes(mut lanes: [f32; LANES]) -> f32 {
    let mut width = LANES / 2;
    while width > 0 {
        for lane in 0..width {
            lanes[lane] += lanes[lane + width];
        }
        width /= 2;
    }
    lanes[0]
}

/// Multiplies `a` (`m × k`, row-major) by `b` (`k × n`, row-major) into `c`
/// (`m × n` with a row stride of `c_row_stride`), writing every one of those
/// `m × n` values (so `c` need not be initialized).
fn matmul(
    a: &[f32],
    b: &[f32],
    c: &mut [MaybeUninit<f32>],
    (m, k, n): (usize, usize, usize),
    c_row_stride: usize,
) {
    assert!(
        a.len() >= m * k && b.len() >= k * n,
        "matmul operands too short"
    );
    assert!(
        m == 0 || c.len() >= (m - 1) * c_row_stride + n,
        "matmul output too short"
    );
    // SAFETY: the asserts above keep every index the kernel derives from
    // these sizes and strides inside the three slices; with β = 0 the kernel
    // only writes `c`, never reads it.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            c.as_mut_ptr().cast::<f32>(),
            c_row_stride as isize,
            1,
        );
    }
}

/// Geometry of a convolution along one axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Axis {
    /// Kernel size.
    pub kernel: usize,
    /// Step between outputs.
    pub stride: usize,
    /// Zeros added at each end.
    pub padding: usize,
    /// Spacing of the kernel taps.
    pub dilation: usize,
}

impl Axis {
    /// How many outputs an input of `len` gives (`None` if none fit).
    fn output_len(&self, len: usize) -> Option<usize> {
        let span = self.dilation * (self.kernel - 1) + 1;
        (len + 2 * self.padding)
            .checked_sub(span)
            .map(|room| room / self.stride + 1)
    }

    /// The outputs whose tap `tap` falls inside an input of `len`.
    fn valid_outputs(&self, tap: usize, len: usize, outputs: usize) -> std::ops::Range<usize> {
        let offset = tap * self.dilation;
        let first = self.padding.saturating_sub(offset).div_ceil(self.stride);
        let end = (len + self.padding)
            .checked_sub(offset + 1)
            .map_or(0, |last| last / self.stride + 1)
            .min(outputs);
        first..end.max(first)
    }

    /// Input index of output `out`, tap `tap`, if it falls inside `len`.
    pub(super) fn source(&self, out: usize, tap: usize, len: usize) -> Option<usize> {
        (out * self.stride + tap * self.dilation)
            .checked_sub(self.padding)
            .filter(|&i| i < len)
    }
}

/// Zero columns on both sides of every row of an activation, which a
/// convolution's column padding reads instead of a padded copy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Margins {
    /// Those of the input (padding beyond them is copied in, as without).
    pub input: usize,
    /// Those written around the output.
    pub output: usize,
}

/// `values`, `rows` rows of `width` (possibly none), with `margin` zeros on
/// both sides of every row.
pub(crate) fn rows_with_margins(
    values: &[f32],
    rows: usize,
    width: usize,
    margin: usize,
) -> Vec<f32> {
    assert_eq!(values.len(), rows * width, "values are not rows × width");
    let mut padded = Vec::with_capacity(rows * (width + 2 * margin));
    for row in 0..rows {
        padded.resize(padded.len() + margin, 0.0);
        padded.extend_from_slice(&values[row * width..][..width]);
        padded.resize(padded.len() + margin, 0.0);
    }
    padded
}

/// An activation: `channels × height × width` values, channel-major.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Activation {
    /// Number of channels.
    pub channels: usize,
    /// Rows per channel (1 for a 1-D signal).
    pub height: usize,
    /// Columns per row (time).
    pub width: usize,
    /// The values.
    pub values: Vec<f32>,
}

impl Activation {
    /// A zeroed activation.
    pub fn zeros(channels: usize, height: usize, width: usize) -> Self {
        Self {
            channels,
            height,
            width,
            values: vec![0.0; channels * height * width],
        }
    }

    /// Values per channel.
    pub fn plane(&self) -> usize {
        self.height * self.width
    }

    /// The values of channel `c`.
    pub fn channel(&self, c: usize) -> &[f32] {
        &self.values[c * self.plane()..(c + 1) * self.plane()]
    }

    /// Applies `max(x, 0)` in place.
    pub fn relu(&mut self) {
        self.values.iter_mut().for_each(|x| *x = x.max(0.0));
    }

    /// The same with `margin` zero columns on both sides of every row.
    pub fn with_margins(self, margin: usize) -> Activation {
        if margin == 0 {
            return self;
        }
        Activation {
            width: self.width + 2 * margin,
            values: rows_with_margins(
                &self.values,
                self.channels * self.height,
                self.width,
                margin,
            ),
            ..self
        }
    }

    /// The same without `margin` columns on both sides of every row.
    pub fn without_margins(&self, margin: usize) -> Cow<'_, Activation> {
        if margin == 0 {
            return Cow::Borrowed(self);
        }
        let width = self.width - 2 * margin;
        let mut values = Vec::with_capacity(self.channels * self.height * width);
        for row in self.values.chunks_exact(self.width) {
            values.extend_from_slice(&row[margin..margin + width]);
        }
        Cow::Owned(Activation {
            width,
            values,
            ..*self
        })
    }

    /// Adds `other` (same shape) in place, then applies `max(x, 0)`.
    pub fn add_relu(&mut self, other: &Activation) {
        assert_eq!(self.values.len(), other.values.len(), "added shapes differ");
        self.values
            .iter_mut()
            .zip(&other.values)
            .for_each(|(x, y)| *x = (*x + y).max(0.0));
    }
}

/// Output columns computed per matrix product, bounding the unfolded input.
const COLUMNS_PER_PRODUCT: usize = 2048;

/// A 2-D convolution (`weights` as `[out][in][kh][kw]`), optionally biased.
#[derive(Debug, Clone)]
pub(crate) struct Conv {
    /// Output channels.
    pub outputs: usize,
    /// Input channels.
    pub inputs: usize,
    /// Geometry along the height.
    pub rows: Axis,
    /// Geometry along the width.
    pub columns: Axis,
    /// `outputs × inputs × kh × kw` weights.
    pub weights: Vec<f32>,
    /// One bias per output channel, or none.
    pub bias: Option<Vec<f32>>,
    /// The weights laid out for the direct convolution, once first needed.
    #[cfg(direct_kernels)]
    direct: direct::PackedWeights,
}

impl Conv {
    /// A convolution of `outputs × inputs × rows.kernel × columns.kernel` weights.
    pub fn new(
        (outputs, inputs): (usize, usize),
        (rows, columns): (Axis, Axis),
        weights: Vec<f32>,
        bias: Option<Vec<f32>>,
    ) -> Self {
        assert_eq!(
            weights.len(),
            outputs * inputs * rows.kernel * columns.kernel,
            "weights do not match the shape"
        );
        Self {
            outputs,
            inputs,
            rows,
            columns,
            weights,
            bias,
            #[cfg(direct_kernels)]
            direct: direct::PackedWeights::default(),
        }
    }

    /// Output height and width for an input of `height × width`.
    pub fn output_size(&self, height: usize, width: usize) -> Option<(usize, usize)> {
        Some((
            self.rows.output_len(height)?,
            self.columns.output_len(width)?,
        ))
    }

    fn is_pointwise(&self) -> bool {
        let identity = Axis {
            kernel: 1,
            stride: 1,
            padding: 0,
            dilation: 1,
        };
        self.rows == identity && self.columns == identity
    }

    /// Convolves the first `self.inputs` channels of `input` at `precision`
    /// (where it runs directly; exactly otherwise).
    pub fn apply(&self, input: &Activation, precision: Precision) -> Activation {
        self.apply_with_margins(input, Margins::default(), false, precision)
    }

    /// [`Self::apply`], then `max(x, 0)` — as the outputs are stored where
    /// the convolution runs directly (no second pass over them).
    pub fn apply_relu(&self, input: &Activation, precision: Precision) -> Activation {
        self.apply_with_margins(input, Margins::default(), true, precision)
    }

    /// [`Self::apply`] (clamped at 0 if `relu`) of an input whose rows have
    /// `margins.input` zero columns on each side, its output's rows given
    /// `margins.output`: where the convolution runs directly its column
    /// padding reads the margins, and layers that keep them (a chain of
    /// same-width convolutions) make no padded copies of their inputs.
    pub fn apply_with_margins(
        &self,
        input: &Activation,
        margins: Margins,
        relu: bool,
        precision: Precision,
    ) -> Activation {
        #[cfg(direct_kernels)]
        if direct::applies_to(self) && direct::available() {
            return direct::apply(self, &self.direct, input, margins, relu, precision);
        }
        #[cfg(not(direct_kernels))]
        let _ = precision;
        let mut output = self.apply_unfolded(&input.without_margins(margins.input));
        if relu {
            output.relu();
        }
        output.with_margins(margins.output)
    }

    /// [`Self::apply`] as matrix products of the weights and the unfolded input.
    fn apply_unfolded(&self, input: &Activation) -> Activation {
        assert!(input.channels >= self.inputs, "too few input channels");
        let (height, width) = self
            .output_size(input.height, input.width)
            .expect("input smaller than the kernel");
        let positions = height * width;
        let depth = self.inputs * self.rows.kernel * self.columns.kernel;
        let mut values = Vec::with_capacity(self.outputs * positions);
        let output_values = &mut values.spare_capacity_mut()[..self.outputs * positions];
        if self.is_pointwise() {
            let used = &input.values[..self.inputs * input.plane()];
            let shape = (self.outputs, depth, positions);
            matmul(&self.weights, used, output_values, shape, positions);
        } else {
            let rows_per_product = (COLUMNS_PER_PRODUCT / width).max(1);
            let mut unfolded = Vec::new();
            for first_row in (0..height).step_by(rows_per_product) {
                let rows = first_row..height.min(first_row + rows_per_product);
                let count = rows.len() * width;
                self.unfold(input, width, rows, &mut unfolded);
                let shape = (self.outputs, depth, count);
                let out = &mut output_values[first_row * width..];
                matmul(&self.weights, &unfolded, out, shape, positions);
            }
        }
        // SAFETY: the products above wrote every output value: all channels
        // of the positions of every group of rows, and the groups cover all.
        unsafe { values.set_len(self.outputs * positions) };
        let mut output = Activation {
            channels: self.outputs,
            height,
            width,
            values,
        };
        if let Some(bias) = &self.bias {
            output
                .values
                .chunks_exact_mut(positions)
                .zip(bias)
                .for_each(|(plane, b)| plane.iter_mut().for_each(|x| *x += b));
        }
        output
    }

    /// Convolves each of `inputs` (all of one shape) like [`Self::apply`], one
    /// dot product per output value: for outputs of a few positions, where
    /// packing the weights for a matrix product would cost more than the
    /// product itself. Each weight is read once for the whole batch.
    pub fn apply_to_each(&self, inputs: &[Activation]) -> Vec<Activation> {
        let Some(first) = inputs.first() else {
            return Vec::new();
        };
        assert!(first.channels >= self.inputs, "too few input channels");
        let (height, width) = self
            .output_size(first.height, first.width)
            .expect("input smaller than the kernel");
        let depth = self.inputs * self.rows.kernel * self.columns.kernel;
        let positions = height * width;
        let mut patches = Vec::with_capacity(inputs.len() * positions * depth);
        for input in inputs {
            assert!(
                (input.channels, input.height, input.width)
                    == (first.channels, first.height, first.width),
                "batched inputs of different shapes"
            );
            self.push_patches(input, height, width, &mut patches);
        }
        let mut products = Vec::new();
        dot_rows(&self.weights, &patches, depth, &mut products);
        let columns = inputs.len() * positions;
        (0..inputs.len())
            .map(|i| {
                let mut output = Activation::zeros(self.outputs, height, width);
                let planes = output.values.chunks_exact_mut(positions);
                for (o, plane) in planes.enumerate() {
                    let bias = self.bias.as_ref().map_or(0.0, |b| b[o]);
                    let computed = &products[o * columns + i * positions..][..positions];
                    for (value, product) in plane.iter_mut().zip(computed) {
                        *value = product + bias;
                    }
                }
                output
            })
            .collect()
    }

    /// Appends the input patch of every output position, one after another,
    /// each laid out like a filter of the weights (`[in][kh][kw]`).
    fn push_patches(
        &self,
        input: &Activation,
        height: usize,
        width: usize,
        patches: &mut Vec<f32>,
    ) {
        for r in 0..height {
            for c in 0..width {
                for channel in 0..self.inputs {
                    let plane = input.channel(channel);
                    for kr in 0..self.rows.kernel {
                        let kernel = self.columns.kernel;
                        let Some(row) = self.rows.source(r, kr, input.height) else {
                            patches.resize(patches.len() + kernel, 0.0);
                            continue;
                        };
                        let source = &plane[row * input.width..][..input.width];
                        let first = (c * self.columns.stride).checked_sub(self.columns.padding);
                        match first.and_then(|first| source.get(first..first + kernel)) {
                            Some(taps) if self.columns.dilation == 1 => {
                                patches.extend_from_slice(taps);
                            }
                            _ => patches.extend((0..kernel).map(|kc| {
                                self.columns
                                    .source(c, kc, input.width)
                                    .map_or(0.0, |column| source[column])
                            })),
                        }
                    }
                }
            }
        }
    }

    /// Writes the input patches of the output rows `rows` (each `out_width`
    /// wide) as the columns of a `depth × positions` matrix (im2col). Every
    /// value is written once, the padding's zeros included.
    fn unfold(
        &self,
        input: &Activation,
        out_width: usize,
        rows: std::ops::Range<usize>,
        unfolded: &mut Vec<f32>,
    ) {
        unfolded.clear();
        let zeros = |unfolded: &mut Vec<f32>, n: usize| unfolded.resize(unfolded.len() + n, 0.0);
        for channel in 0..self.inputs {
            let plane = input.channel(channel);
            for kr in 0..self.rows.kernel {
                for kc in 0..self.columns.kernel {
                    let valid = self.columns.valid_outputs(kc, input.width, out_width);
                    for r in rows.clone() {
                        let Some(source_row) = self.rows.source(r, kr, input.height) else {
                            zeros(unfolded, out_width);
                            continue;
                        };
                        let source = &plane[source_row * input.width..][..input.width];
                        let first = valid.start * self.columns.stride + kc * self.columns.dilation
                            - self.columns.padding;
                        zeros(unfolded, valid.start);
                        if self.columns.stride == 1 {
                            unfolded.extend_from_slice(&source[first..first + valid.len()]);
                        } else if !valid.is_empty() {
                            // Every stride-th value: one chunk per output column.
                            let span = (valid.len() - 1) * self.columns.stride + 1;
                            let chunks = source[first..first + span].chunks(self.columns.stride);
                            unfolded.extend(chunks.map(|chunk| chunk[0]));
                        }
                        zeros(unfolded, out_width - valid.end);
                    }
                }
            }
        }
    }
}

/// Inference-time batch normalization, folded to `x * scale + shift`.
#[derive(Debug, Clone)]
pub(crate) struct BatchNorm {
    /// Per-channel factor.
    pub scale: Vec<f32>,
    /// Per-channel offset.
    pub shift: Vec<f32>,
}

impl BatchNorm {
    /// Folds `gamma (x - mean) / sqrt(var + epsilon) + beta`.
    pub fn fold(gamma: &[f32], beta: &[f32], mean: &[f32], var: &[f32], epsilon: f32) -> Self {
        let scale: Vec<f32> = gamma
            .iter()
            .zip(var)
            .map(|(g, v)| g / (v + epsilon).sqrt())
            .collect();
        let shift = beta
            .iter()
            .zip(mean)
            .zip(&scale)
            .map(|((b, m), s)| b - m * s)
            .collect();
        Self { scale, shift }
    }

    /// Channels normalized.
    pub fn channels(&self) -> usize {
        self.scale.len()
    }

    /// `relu(batchnorm(x))` of the first `self.channels()` channels of `input`.
    pub fn relu(&self, input: &Activation) -> Activation {
        let mut out = Activation::zeros(0, 0, 0);
        self.relu_into(input, &mut out);
        out
    }

    /// [`Self::relu`] written over `out` (whose buffer a chain of layers
    /// can reuse, rather than take fresh memory for each).
    pub fn relu_into(&self, input: &Activation, out: &mut Activation) {
        let plane = input.plane();
        out.values.clear();
        out.values.reserve(self.channels() * plane);
        for (x, (s, b)) in input
            .values
            .chunks_exact(plane)
            .zip(self.scale.iter().zip(&self.shift))
        {
            out.values.extend(x.iter().map(|x| (x * s + b).max(0.0)));
        }
        out.channels = self.channels();
        out.height = input.height;
        out.width = input.width;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(kernel: usize, stride: usize, padding: usize, dilation: usize) -> Axis {
        Axis {
            kernel,
            stride,
            padding,
            dilation,
        }
    }

    /// A direct, loop-by-loop convolution to check the unfolded one against.
    fn naive(conv: &Conv, input: &Activation) -> Activation {
        let (height, width) = conv.output_size(input.height, input.width).unwrap();
        let mut out = Activation::zeros(conv.outputs, height, width);
        let (kh, kw) = (conv.rows.kernel, conv.columns.kernel);
        for o in 0..conv.outputs {
            for r in 0..height {
                for c in 0..width {
                    let mut sum = conv.bias.as_ref().map_or(0.0, |b| b[o]);
                    for i in 0..conv.inputs {
                        for kr in 0..kh {
                            for kc in 0..kw {
                                let sr = conv.rows.source(r, kr, input.height);
                                let sc = conv.columns.source(c, kc, input.width);
                                if let (Some(sr), Some(sc)) = (sr, sc) {
                                    let w =
                                        conv.weights[((o * conv.inputs + i) * kh + kr) * kw + kc];
                                    sum += w * input.channel(i)[sr * input.width + sc];
                                }
                            }
                        }
                    }
                    out.values[(o * height + r) * width + c] = sum;
                }
            }
        }
        out
    }

    fn pseudo_random(len: usize, seed: u32) -> Vec<f32> {
        let mut state = seed;
        (0..len)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect()
    }

    /// A biased convolution of `outputs × inputs` channels and an input of
    /// `height × width`, all pseudo-random from `seed` on.
    fn random_case(
        (outputs, inputs): (usize, usize),
        (rows, columns): (Axis, Axis),
        (height, width): (usize, usize),
        seed: u32,
    ) -> (Conv, Activation) {
        let conv = Conv::new(
            (outputs, inputs),
            (rows, columns),
            pseudo_random(outputs * inputs * rows.kernel * columns.kernel, seed),
            Some(pseudo_random(outputs, seed + 1)),
        );
        let input = Activation {
            channels: inputs,
            height,
            width,
            values: pseudo_random(inputs * height * width, seed + 2),
        };
        (conv, input)
    }

    /// The largest absolute difference between two outputs of one shape.
    fn largest_difference(a: &Activation, b: &Activation) -> f32 {
        assert_eq!((a.height, a.width), (b.height, b.width));
        let differences = a.values.iter().zip(&b.values).map(|(x, y)| (x - y).abs());
        differences.fold(0.0, f32::max)
    }

    fn check(rows: Axis, columns: Axis, inputs: usize, height: usize, width: usize) {
        check_outputs(5, rows, columns, inputs, height, width);
    }

    fn check_outputs(
        outputs: usize,
        rows: Axis,
        columns: Axis,
        inputs: usize,
        height: usize,
        width: usize,
    ) {
        let (conv, input) = random_case((outputs, inputs), (rows, columns), (height, width), 1);
        let other = Activation {
            values: pseudo_random(inputs * height * width, 4),
            ..input.clone()
        };
        let batch = conv.apply_to_each(&[input.clone(), other.clone()]);
        assert_eq!(
            batch[0],
            conv.apply_to_each(std::slice::from_ref(&input))[0]
        );
        let unfolded = conv.apply(&input, Precision::Exact);
        for (fast, of) in [
            (&unfolded, &input),
            (&batch[0], &input),
            (&batch[1], &other),
        ] {
            let diff = largest_difference(fast, &naive(&conv, of));
            assert!(diff < 1e-5, "max abs diff {diff}");
        }
        // Clamped as stored: the same values as clamped after.
        let mut clamped = unfolded;
        clamped.relu();
        assert_eq!(conv.apply_relu(&input, Precision::Exact), clamped);
        assert!(clamped.values.contains(&0.0));
    }

    #[test]
    fn dot_products_sum_every_lane_and_the_tail() {
        let a: Vec<f32> = (1..=11).map(|i| i as f32).collect();
        let mut out = Vec::new();
        dot_rows(&a, &[2.0; 11], 11, &mut out);
        // 2 (1 + … + 11) = 132
        assert_eq!(out, [132.0]);
        dot_rows(&a[..3], &[2.0; 3], 3, &mut out);
        assert_eq!(out, [12.0]);
    }

    #[test]
    fn sums_add_every_lane_and_the_tail() {
        let values: Vec<f32> = (1..=19).map(|i| i as f32).collect();
        assert_eq!(sum(&values), 190.0);
        assert_eq!(sum(&values[..5]), 15.0);
        assert_eq!(sum(&[]), 0.0);
    }

    #[test]
    fn dot_products_do_not_depend_on_their_batch() {
        let depth = 21;
        let rows = pseudo_random(5 * depth, 7);
        let vectors = pseudo_random(9 * depth, 8);
        let mut all = Vec::new();
        dot_rows(&rows, &vectors, depth, &mut all);
        assert_eq!(all.len(), 5 * 9);
        for (r, row) in rows.chunks(depth).enumerate() {
            for (v, vector) in vectors.chunks(depth).enumerate() {
                let exact: f64 = row.iter().zip(vector).map(|(x, y)| f64::from(x * y)).sum();
                assert!((f64::from(all[r * 9 + v]) - exact).abs() < 1e-5);
            }
        }
        let mut part = Vec::new();
        for count in 1..9 {
            for first in [0, 9 - count] {
                let batch = &vectors[first * depth..(first + count) * depth];
                for row_count in 1..=5 {
                    dot_rows(&rows[..row_count * depth], batch, depth, &mut part);
                    for r in 0..row_count {
                        for v in 0..count {
                            assert_eq!(part[r * count + v], all[r * 9 + first + v]);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn strided_padded_2d_convolution_matches_the_definition() {
        check(axis(3, 2, 1, 1), axis(3, 1, 1, 1), 3, 9, 7);
        check(axis(1, 2, 0, 1), axis(1, 1, 0, 1), 4, 8, 5);
    }

    #[test]
    fn margins_stand_for_the_column_padding() {
        // A padded 3×3 convolution, a strided 1×1 one, and margins wider
        // and narrower than a dilated convolution's padding.
        for (rows, columns, margin) in [
            (axis(3, 2, 1, 1), axis(3, 1, 1, 1), 1),
            (axis(1, 2, 0, 1), axis(1, 1, 0, 1), 1),
            (axis(3, 1, 1, 1), axis(3, 1, 1, 2), 2),
            (axis(3, 1, 1, 1), axis(3, 1, 2, 2), 1),
        ] {
            let (inputs, height, width) = (3, 6, 37);
            let (conv, input) = random_case((9, inputs), (rows, columns), (height, width), 5);
            let plain = conv.apply(&input, Precision::Exact);
            let padded = input.clone().with_margins(margin);
            assert_eq!(padded.without_margins(margin).into_owned(), input);
            let kept = Margins {
                input: margin,
                output: margin,
            };
            let through = conv.apply_with_margins(&padded, kept, false, Precision::Exact);
            assert_eq!(through, plain.clone().with_margins(margin));
            let dropped = Margins { output: 0, ..kept };
            assert_eq!(
                conv.apply_with_margins(&padded, dropped, false, Precision::Exact),
                plain
            );
        }
    }

    #[test]
    fn rows_without_columns_get_margins_too() {
        let empty = Activation::zeros(2, 3, 0);
        let padded = empty.clone().with_margins(1);
        assert_eq!(padded, Activation::zeros(2, 3, 2));
        assert_eq!(padded.without_margins(1).into_owned(), empty);
    }

    #[test]
    fn dilated_and_strided_1d_convolutions_match_the_definition() {
        check(axis(1, 1, 0, 1), axis(3, 1, 2, 2), 6, 1, 11);
        check(axis(1, 1, 0, 1), axis(5, 2, 2, 1), 6, 1, 12);
        check(axis(1, 1, 0, 1), axis(1, 1, 0, 1), 6, 1, 13);
    }

    #[test]
    fn wide_inputs_are_unfolded_in_several_products() {
        check(
            axis(3, 1, 1, 1),
            axis(3, 1, 1, 1),
            2,
            3,
            COLUMNS_PER_PRODUCT,
        );
    }

    #[test]
    fn many_channels_and_columns_match_the_definition() {
        // Several blocks of output channels and of columns, with tails of
        // each, in the shapes of CAM++'s layers.
        check_outputs(19, axis(3, 2, 1, 1), axis(3, 1, 1, 1), 3, 10, 101);
        check_outputs(17, axis(1, 1, 0, 1), axis(3, 1, 2, 2), 9, 1, 150);
        check_outputs(8, axis(1, 1, 0, 1), axis(1, 1, 0, 1), 33, 1, 48);
        check_outputs(9, axis(1, 1, 0, 1), axis(1, 1, 0, 1), 4, 1, 17);
        // Every count of columns left over by whole vectors (up to 15 of
        // 16 lanes), with a group of channel blocks and a lone partial block.
        for width in 1..=33 {
            check_outputs(17, axis(1, 1, 0, 1), axis(3, 1, 1, 1), 3, 2, width);
        }
    }

    #[test]
    fn bf16_products_are_the_definition_over_rounded_operands() {
        // Where the CPU multiplies bfloat16 the convolution is the
        // definition over inputs and weights rounded to bfloat16, summed
        // in f32 (the bias unrounded); elsewhere it is exact. Odd input
        // counts leave the last pair half empty.
        let bf16 = Precision::Bf16.here() == Precision::Bf16;
        let round = |values: &[f32]| -> Vec<f32> {
            #[cfg(target_arch = "x86_64")]
            if bf16 {
                return values.iter().map(|&x| direct::round_to_bf16(x)).collect();
            }
            values.to_vec()
        };
        let point = axis(1, 1, 0, 1);
        for (outputs, rows, columns, inputs, height, width) in [
            (19, axis(3, 1, 1, 1), axis(3, 1, 1, 1), 3, 10, 101),
            (17, point, axis(3, 1, 2, 2), 8, 1, 150),
            (9, point, point, 33, 1, 17),
            (24, point, point, 2, 1, 5),
        ] {
            let (conv, input) =
                random_case((outputs, inputs), (rows, columns), (height, width), 11);
            let fast = conv.apply(&input, Precision::Bf16);
            let rounded_conv = Conv::new(
                (outputs, inputs),
                (rows, columns),
                round(&conv.weights),
                conv.bias.clone(),
            );
            let rounded_input = Activation {
                values: round(&input.values),
                ..input.clone()
            };
            let diff = largest_difference(&fast, &naive(&rounded_conv, &rounded_input));
            assert!(diff < 1e-5, "max abs diff {diff}");
            if bf16 {
                // Rounded: further from the exact convolution than f32 sums.
                let exact = naive(&conv, &input);
                assert!(largest_difference(&fast, &exact) > 1e-4);
            }
        }
    }

    #[test]
    fn batchnorm_folds_and_clamps() {
        let bn = BatchNorm::fold(&[2.0], &[1.0], &[3.0], &[4.0 - 1e-5], 1e-5);
        let input = Activation {
            channels: 1,
            height: 1,
            width: 2,
            values: vec![5.0, 0.0],
        };
        // 2 (5 - 3) / 2 + 1 = 3 ; 2 (0 - 3) / 2 + 1 = -2 → 0
        let out = bn.relu(&input).values;
        assert!((out[0] - 3.0).abs() < 1e-5 && out[1] == 0.0, "{out:?}");
        // Written over a buffer that held a larger activation: the same.
        let mut reused = Activation::zeros(3, 2, 4);
        reused.values.fill(7.0);
        bn.relu_into(&input, &mut reused);
        assert_eq!(reused, bn.relu(&input));
    }
}
