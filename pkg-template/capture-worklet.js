// AudioWorklet processor: microphone → little-endian PCM16 chunks at the
// context's own sample rate (channels averaged), posted to the main thread.
class VoiceportPcm16Processor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.chunkSamples = options.processorOptions?.chunkSamples ?? 4800;
    this.chunk = new Int16Array(this.chunkSamples);
    this.filled = 0;
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    const frames = channels[0].length;
    for (let i = 0; i < frames; i++) {
      let sum = 0;
      for (const channel of channels) sum += channel[i];
      const sample = Math.max(-1, Math.min(1, sum / channels.length));
      this.chunk[this.filled++] = sample < 0 ? Math.round(sample * 32768) : Math.round(sample * 32767);
      if (this.filled === this.chunkSamples) {
        this.port.postMessage(this.chunk.buffer, [this.chunk.buffer]);
        this.chunk = new Int16Array(this.chunkSamples);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor('voiceport-pcm16', VoiceportPcm16Processor);
