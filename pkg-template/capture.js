// Microphone capture: an AudioWorklet turns the mic into PCM16 chunks at the
// AudioContext's own rate (never a forced rate, which breaks in Firefox).

/**
 * Opens the microphone. Chunks go to `onChunk` listeners and to any
 * connection given to `pipeTo` (a LocalVoiceSocket or a real WebSocket).
 */
export async function openMicrophone({ chunkMs = 100, audio } = {}) {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: audio ?? { channelCount: 1, echoCancellation: true, noiseSuppression: false, autoGainControl: false },
  });
  const context = new AudioContext();
  try {
    await context.audioWorklet.addModule(new URL('./capture-worklet.js', import.meta.url));
  } catch (error) {
    stream.getTracks().forEach((track) => track.stop());
    await context.close();
    throw error;
  }
  const chunkSamples = Math.max(128, Math.round((context.sampleRate * chunkMs) / 1000));
  const source = context.createMediaStreamSource(stream);
  const node = new AudioWorkletNode(context, 'voiceport-pcm16', { processorOptions: { chunkSamples } });
  const mute = context.createGain();
  mute.gain.value = 0;
  source.connect(node).connect(mute).connect(context.destination);
  const listeners = new Set();
  node.port.onmessage = ({ data }) => listeners.forEach((listener) => listener(data));
  let stopped = false;
  return {
    /** The rate of the PCM16 chunks (send it as the sample-rate parameter). */
    sampleRate: context.sampleRate,
    /** The microphone's MediaStream (its tracks end on stop). */
    stream,
    /** Adds a listener for each PCM16 chunk (an ArrayBuffer); returns a remover. */
    onChunk(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Sends every chunk to `socket` while it is open; returns a remover. */
    pipeTo(socket) {
      return this.onChunk((chunk) => {
        if (socket.readyState === 1) socket.send(chunk);
      });
    },
    /** Stops capture and releases the microphone. */
    async stop() {
      if (stopped) return;
      stopped = true;
      listeners.clear();
      stream.getTracks().forEach((track) => track.stop());
      source.disconnect();
      node.disconnect();
      await context.close();
    },
  };
}
