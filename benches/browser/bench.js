// Browser benchmarks, side by side in one page:
// - voiceport's wasm engine: VAD per frame, CAM++ per second of speech,
//   speaker-model plan time;
// - onnxruntime-web (the runtime of @ricky0123/vad-web) running the identical
//   silero_vad_v6.onnx that vad-web ships, with vad-web's per-frame code
//   (512 samples + 64 of context, state carried, `sr` = 16000);
// - the package's cold start to the first "200" and to the speaker model;
// - the engine's two builds (SIMD128, relaxed SIMD) side by side: a 3 s
//   template and a verify stream's CPU per real-time second.
import init, { Engine, WasmSession } from '/pkg/voiceport.js';
import { LocalVoiceSocket, createTemplateFromSamples, engineStats, onProgress, preload } from '/pkg/index.js';
import * as ort from '/ort/ort.wasm.min.mjs';

const bytes = async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer());

/** 16 kHz mono PCM16 of the data chunk of a WAV. */
async function wavPcm(url) {
  const data = await bytes(url);
  const view = new DataView(data.buffer);
  for (let at = 12; at + 8 <= data.length; ) {
    const size = view.getUint32(at + 4, true);
    if (String.fromCharCode(...data.subarray(at, at + 4)) === 'data') return data.slice(at + 8, at + 8 + size);
    at += 8 + size + (size % 2);
  }
  throw new Error('no data chunk');
}

/** Best mean milliseconds per call of `fn` over `rounds` rounds. */
async function bestOf(fn, rounds = 5) {
  await fn();
  let best = Infinity;
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    await fn();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

/** The Ogg Opus fixtures and libopus's 16 kHz decode of each (same audio as PCM). */
const OPUS_FIXTURES = ['mono16k_8kbps_20ms', 'mono16k_16kbps_60ms', 'mono16k_32kbps_10ms', 'mono48k_24kbps_2.5ms', 'mono48k_64kbps_20ms', 'stereo16k_32kbps_20ms'];

/** Milliseconds to stream `audio` (one binary message) through a fresh summary session. */
function summaryStreamMs(engine, path, audio) {
  return bestOf(() => {
    const session = new WasmSession(path);
    session.attach(engine);
    if (session.onText('16000') !== '200') throw new Error(`${path}: sample rate refused`);
    const reply = session.onBinary(audio);
    session.free();
    if (!reply.startsWith('{')) throw new Error(`${path}: ${reply} ${session.lastError}`);
  }, 15);
}

/**
 * Opus input cost in wasm: each Ogg Opus fixture through /speech_summary_stream_opus
 * against the same audio as PCM16 through /speech_summary_stream; the difference is
 * the decoding (and Ogg demultiplexing) the Opus endpoint adds. One row per fixture.
 */
async function opusInputCost(engine) {
  const rows = [];
  for (const name of OPUS_FIXTURES) {
    const ogg = await bytes(`/data/opus/${name}.opus`);
    const pcm = await wavPcm(`/data/opus/${name}.16000.wav`);
    rows.push({
      name,
      seconds: pcm.length / 2 / 16000,
      opusMs: await summaryStreamMs(engine, '/speech_summary_stream_opus', ogg),
      pcmMs: await summaryStreamMs(engine, '/speech_summary_stream', pcm),
    });
  }
  return rows;
}

async function voiceportEngine(pcm) {
  await init();
  const vadModel = await bytes('/pkg/models/silero_vad_openvino_16k.onnx');
  // The first load runs the model-reading wasm functions for the first time
  // (compiled lazily by the browser); the second shows the reading alone.
  let start = performance.now();
  const engine = new Engine(vadModel);
  const vadLoadFirstMs = performance.now() - start;
  start = performance.now();
  new Engine(vadModel).free();
  const vadLoadAgainMs = performance.now() - start;
  const opus = await opusInputCost(engine);
  start = performance.now();
  engine.loadSpeakerModel(await bytes('/pkg/models/campplus_zh_en_common.f16w.onnx'));
  const speakerLoadMs = performance.now() - start;
  const seconds = pcm.length / 2 / 16000;
  const templateMs = await bestOf(() => engine.createTemplateFromSamples(pcm, 16000), 3);
  const threeSeconds = pcm.subarray(32000, 32000 + 3 * 32000);
  const template3sMs = await bestOf(() => engine.createTemplateFromSamples(threeSeconds, 16000), 3);
  return { engine, vadLoadFirstMs, vadLoadAgainMs, opus, speakerLoadMs, templateMs, seconds, template3sMs };
}

/** onnxruntime-web running vad-web's Silero over the recording: a function doing one pass. */
async function onnxruntimeWebVad(pcm) {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = '/ort/';
  const session = await ort.InferenceSession.create(await bytes('/vad-web/silero_vad_v6.onnx'));
  const samples = new Float32Array(pcm.length / 2);
  const view = new DataView(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(2 * i, true) / 32768;
  const frames = Math.floor(samples.length / 512);
  const sr = new ort.Tensor('int64', [16000n]);
  const run = async () => {
    // vad-web 0.0.31's Silero.process, frame by frame.
    let state = new ort.Tensor('float32', new Float32Array(256), [2, 1, 128]);
    let context = new Float32Array(64);
    for (let f = 0; f < frames; f++) {
      const frame = samples.subarray(f * 512, (f + 1) * 512);
      const withContext = new Float32Array(576);
      withContext.set(context, 0);
      withContext.set(frame, 64);
      context = frame.slice(-64);
      const out = await session.run({ input: new ort.Tensor('float32', withContext, [1, 576]), state, sr });
      state = out.stateN;
    }
  };
  return run;
}

/**
 * µs per VAD frame of voiceport (the summary of the whole recording) and of
 * onnxruntime-web, measured in alternating rounds so that a change in the
 * machine's load reaches both alike; best round of each.
 */
async function vadSideBySide(engine, runOnnxruntimeWeb, pcm, rounds = 7) {
  const frames = Math.floor(pcm.length / 2 / 512);
  const timed = async (fn) => {
    const start = performance.now();
    await fn();
    return performance.now() - start;
  };
  const runVoiceport = () => engine.speechSummaryFromSamples(pcm, 16000);
  await runVoiceport();
  await runOnnxruntimeWeb();
  let voiceport = Infinity;
  let onnxruntimeWeb = Infinity;
  for (let round = 0; round < rounds; round++) {
    voiceport = Math.min(voiceport, await timed(runVoiceport));
    onnxruntimeWeb = Math.min(onnxruntimeWeb, await timed(runOnnxruntimeWeb));
  }
  return { voiceport: (1000 * voiceport) / frames, onnxruntimeWeb: (1000 * onnxruntimeWeb) / frames };
}

/** Cold start of the package: a new worker, models from the Cache API. */
async function coldStart() {
  const start = performance.now();
  // Milestones of the VAD model's loading, from the worker's progress events.
  const phases = {};
  const stop = onProgress(({ model, phase }) => {
    phases[`${model} ${phase}`] ??= performance.now() - start;
  });
  // The rate on open, then 0.1 s of audio as soon as it is accepted.
  const replies = await new Promise((resolve, reject) => {
    const socket = new LocalVoiceSocket('voiceport://local/speech_summary_stream');
    const times = [];
    socket.onopen = () => socket.send('16000');
    socket.onmessage = ({ data }) => {
      times.push({ data, ms: performance.now() - start });
      if (times.length === 1) socket.send(new Int16Array(1600));
      else {
        socket.close();
        resolve(times);
      }
    };
    socket.onerror = () => reject(new Error(socket.lastError));
  });
  const speakerStart = performance.now();
  await preload({ speaker: true });
  const speakerReadyMs = performance.now() - speakerStart;
  stop();
  const [first, audio] = replies;
  return { firstReply: first.data, first200Ms: first.ms, firstAudioReplyMs: audio.ms, speakerReadyMs, phases };
}

/**
 * The share of real time a verify stream (3 s window, a result every 0.5 s)
 * keeps the package's worker busy: `seconds` of speech sent in real time,
 * 100 ms messages every 100 ms, busy time read inside the worker.
 */
async function verifyWorkerLoad(seconds = 12) {
  const pcm = await wavPcm('/data/librivox/librivox_concat_gaps.wav');
  const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength / 2);
  const enroll = samples.slice(14 * 16000);
  const probe = Int16Array.from({ length: seconds * 16000 }, (_, i) => samples[i % (14 * 16000)]);
  const template = await createTemplateFromSamples(enroll, 16000);
  const socket = new LocalVoiceSocket('voiceport://local/voice_verify_stream');
  const replies = [];
  socket.onmessage = ({ data }) => replies.push(data);
  await new Promise((opened) => (socket.onopen = opened));
  for (const param of [template, '16000', '3']) socket.send(param);
  const until = async (count) => {
    while (replies.length < count) await new Promise((r) => setTimeout(r, 5));
  };
  await until(3);
  const before = await engineStats();
  const start = performance.now();
  const messages = seconds * 10;
  for (let i = 0; i < messages; i++) {
    socket.send(probe.slice(i * 1600, (i + 1) * 1600));
    const next = start + (i + 1) * 100;
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  await until(3 + messages);
  const after = await engineStats();
  socket.close();
  const results = replies.slice(3).flatMap((reply) => JSON.parse(reply));
  return {
    busyShare: (after.busyMs - before.busyMs) / (after.uptimeMs - before.uptimeMs),
    msPerSecond: (after.busyMs - before.busyMs) / seconds,
    results: results.length,
    kernels: after.kernels,
  };
}

/**
 * One build of the engine, in its own instance of the glue module (a module
 * URL with its own query is a module of its own), with both models and a
 * template: `{kernels, template3s(), verifyStream()}`, each call one round of
 * a measure — a 3 s template; a verify stream over 10 s of speech in 100 ms
 * messages, 3 s window.
 */
async function loadBuild(build, wasmFile, pcm) {
  const glue = await import(`/pkg/voiceport.js?${build}`);
  await glue.default({ module_or_path: `/pkg/${wasmFile}` });
  const engine = new glue.Engine(await bytes('/pkg/models/silero_vad_openvino_16k.onnx'));
  engine.loadSpeakerModel(await bytes('/pkg/models/campplus_zh_en_common.f16w.onnx'));
  const threeSeconds = pcm.subarray(32000, 32000 + 3 * 32000);
  const template = engine.createTemplateFromSamples(pcm.subarray(20 * 32000), 16000);
  const probe = pcm.subarray(0, 10 * 32000);
  return {
    kernels: glue.convolutionKernels(),
    template3s: () => engine.createTemplateFromSamples(threeSeconds, 16000),
    verifyStream: () => {
      const session = new glue.WasmSession('/voice_verify_stream');
      session.attach(engine);
      for (const param of [template, '16000', '3']) session.onText(param);
      for (let at = 0; at < probe.length; at += 3200) {
        if (!session.onBinary(probe.subarray(at, at + 3200)).startsWith('[')) throw new Error(session.lastError);
      }
      session.free();
    },
  };
}

/** Best milliseconds of `run` on each build, their rounds alternating (so a change in the machine's speed meets both). */
function alternating(builds, run, rounds) {
  const best = builds.map(() => Infinity);
  builds.forEach((build) => run(build)); // warm-up
  for (let i = 0; i < rounds; i++) {
    builds.forEach((build, b) => {
      const start = performance.now();
      run(build);
      best[b] = Math.min(best[b], performance.now() - start);
    });
  }
  return best;
}

/** The SIMD128 and relaxed-SIMD builds side by side: a 3 s template, and a verify stream's CPU per real-time second. */
window.runBuilds = async () => {
  const pcm = await wavPcm('/data/librivox/librivox_concat_gaps.wav');
  const builds = [
    await loadBuild('simd128', 'voiceport_bg.wasm', pcm),
    await loadBuild('relaxed', 'voiceport_relaxed_bg.wasm', pcm),
  ];
  const templates = alternating(builds, (build) => build.template3s(), 7);
  const verify = alternating(builds, (build) => build.verifyStream(), 5);
  const costs = builds.map((build, b) => ({
    kernels: build.kernels,
    template3sMs: templates[b],
    verifyMsPerSecond: verify[b] / 10,
  }));
  return { simd128: costs[0], relaxed: costs[1] };
};

window.runEngines = async () => {
  const pcm = await wavPcm('/data/librivox/librivox_concat_gaps.wav');
  const { engine, ...voiceport } = await voiceportEngine(pcm);
  const vad = await vadSideBySide(engine, await onnxruntimeWebVad(pcm), pcm);
  return { voiceport: { ...voiceport, vadUsPerFrame: vad.voiceport }, onnxruntimeWeb: { vadUsPerFrame: vad.onnxruntimeWeb } };
};
window.runColdStart = coldStart;
window.runVerifyLoad = verifyWorkerLoad;
window.ready = true;
document.getElementById('out').textContent = 'ready';
