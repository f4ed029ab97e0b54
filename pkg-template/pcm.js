// PCM sample conversions shared by the package's audio inputs.

/** PCM16 bytes (a fresh ArrayBuffer) of an Int16Array, or of a Float32Array in −1…1 (clipped). */
export function pcm16Buffer(samples) {
  if (samples instanceof Float32Array) {
    const pcm = new Int16Array(samples.length);
    for (let i = 0; i < samples.length; i++) {
      const sample = Math.max(-1, Math.min(1, samples[i]));
      pcm[i] = sample < 0 ? Math.round(sample * 32768) : Math.round(sample * 32767);
    }
    return pcm.buffer;
  }
  if (samples instanceof Int16Array) return samples.buffer.slice(samples.byteOffset, samples.byteOffset + samples.byteLength);
  throw new TypeError('expected an Int16Array (PCM16) or a Float32Array');
}
