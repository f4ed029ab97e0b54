// The demo: the same client code talks to the server or to the local worker.
import { LocalVoiceSocket, createTemplateFromSamples, onProgress, openMicrophone } from './pkg/index.js';

const $ = (id) => document.getElementById(id);
const log = (line) => {
  $('log').textContent = `${new Date().toLocaleTimeString()} ${line}\n${$('log').textContent}`.slice(0, 20000);
};

onProgress(({ model, phase, loaded, total }) => {
  const bar = $('progress');
  bar.hidden = phase === 'ready';
  if (phase === 'download' && total) bar.firstElementChild.style.width = `${(100 * loaded) / total}%`;
  if (phase !== 'download') log(`${model} model: ${phase}`);
});

/** A connection to `path`, local or on this server, per the mode selector. */
function connect(path) {
  if ($('mode').value === 'local') return new LocalVoiceSocket(`voiceport://local${path}`);
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return new WebSocket(`${scheme}://${location.host}${path}`);
}

/** Opens the mic and a connection, sends the parameters, pipes audio; calls onReply per reply. */
async function stream(path, params, onReply) {
  const mic = await openMicrophone({ chunkMs: 100 });
  const socket = connect(path);
  const all = [...params(mic.sampleRate)];
  socket.onopen = () => {
    all.forEach((p) => socket.send(p));
    mic.pipeTo(socket);
  };
  let answered = 0;
  socket.onmessage = ({ data }) => {
    if (answered++ < all.length) {
      if (data !== '200') log(`parameter rejected: ${socket.lastError ?? data}`);
      return;
    }
    onReply(data);
  };
  socket.onclose = (e) => log(`${path} closed (${e.code})`);
  socket.onerror = () => log(`${path} failed${socket.lastError ? `: ${socket.lastError}` : ''}`);
  return {
    async stop() {
      await mic.stop();
      socket.close();
    },
  };
}

function drawFrames(frames) {
  const canvas = $('frames');
  const g = canvas.getContext('2d');
  const shown = frames.slice(-canvas.width / 3);
  g.clearRect(0, 0, canvas.width, canvas.height);
  shown.forEach((speech, i) => {
    g.fillStyle = speech ? '#3a6ee8' : '#cfd3df';
    g.fillRect(i * 3, speech ? 4 : 24, 3, speech ? 32 : 12);
  });
}

let summary = null;
const frames = [];
$('summary-start').onclick = async () => {
  frames.length = 0;
  summary = await stream('/speech_summary_stream?frames=new', (rate) => [String(rate)], (data) => {
    const reply = JSON.parse(data);
    frames.push(...reply.current_speech_summary.vad_result.frames);
    $('speech').textContent = `speech ${reply.speech_length.toFixed(2)} s`;
    $('background').textContent = `background ${reply.current_speech_summary.background_length.toFixed(2)} s`;
    $('trailing').textContent = `current silence ${reply.current_background_length.toFixed(2)} s`;
    drawFrames(frames);
  });
  $('summary-start').disabled = true;
  $('summary-stop').disabled = false;
};
$('summary-stop').onclick = async () => {
  await summary?.stop();
  $('summary-start').disabled = false;
  $('summary-stop').disabled = true;
};

$('endpoint-start').onclick = async () => {
  $('endpoint').textContent = 'listening…';
  const session = await stream('/speech_endpoint_detector', (rate) => [$('min-speech').value, $('silence').value, String(rate)], async (data) => {
    if (data === 'true') {
      $('endpoint').textContent = 'end of utterance detected';
      await session.stop();
    }
  });
};

let template = null;
$('enroll').onclick = async () => {
  const mic = await openMicrophone({ chunkMs: 100 });
  const chunks = [];
  mic.onChunk((chunk) => chunks.push(new Int16Array(chunk)));
  $('verify').textContent = 'recording 6 s…';
  await new Promise((r) => setTimeout(r, 6000));
  await mic.stop();
  const samples = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    samples.set(c, at);
    at += c.length;
  }
  try {
    template = await createTemplateFromSamples(samples, mic.sampleRate);
    $('verify').textContent = 'template ready';
    $('verify-start').disabled = false;
  } catch (error) {
    $('verify').textContent = `enrollment failed: ${error.message}`;
  }
};

let verify = null;
$('verify-start').onclick = async () => {
  verify = await stream('/voice_verify_stream', (rate) => [template, String(rate), '3'], (data) => {
    for (const result of JSON.parse(data)) {
      const { probability, score } = result.verify_result;
      $('verify').textContent = `same speaker: ${(100 * probability).toFixed(0)} % (score ${score.toFixed(2)})`;
    }
  });
  $('verify-start').disabled = true;
  $('verify-stop').disabled = false;
};
$('verify-stop').onclick = async () => {
  await verify?.stop();
  $('verify-start').disabled = false;
  $('verify-stop').disabled = true;
};
