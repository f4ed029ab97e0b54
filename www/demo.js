// The demo. Streaming code is written once against the WebSocket API; the
// mode selector only decides whether it gets a LocalVoiceSocket or a real
// WebSocket to this server.
import {
  LocalVoiceSocket,
  createTemplateFromSamples,
  createTemplateFromWav,
  enroll as guidedEnroll,
  onProgress,
  openMicrophone,
  voiceQuality,
} from './pkg/index.js';
import { drawFrameStrip, drawSeries } from './plot.js';

const ENROLL_SECONDS = 6;
const VERIFY_WINDOW_SECONDS = 3;
const $ = (id) => document.getElementById(id);

function log(line) {
  $('log').textContent = `${new Date().toLocaleTimeString()} ${line}\n${$('log').textContent}`.slice(0, 20000);
}

function status(text) {
  $('status').textContent = text;
}

const local = () => $('mode').value === 'local';

/** A connection to `path`, local or on this server: the only mode-dependent line. */
function connect(path) {
  if (local()) return new LocalVoiceSocket(`voiceport://local${path}`);
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return new WebSocket(`${scheme}://${location.host}${path}`);
}

function showUrl() {
  $('url').textContent = local()
    ? 'new LocalVoiceSocket("voiceport://local/…")'
    : `new WebSocket("${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/…")`;
}

/** Opens the microphone, with a message a person can act on when it fails. */
async function microphone() {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new Error('the microphone needs a secure page (https or localhost)');
  }
  try {
    return await openMicrophone({ chunkMs: 100 });
  } catch (error) {
    if (error.name === 'NotAllowedError') throw new Error("microphone access was denied: allow it in the browser's site settings");
    if (error.name === 'NotFoundError') throw new Error('no microphone was found');
    throw new Error(`the microphone could not be opened (${error.message})`);
  }
}

/**
 * Streams `mic` to `path`: sends the parameters in onopen (as clients of the
 * original server do), then every chunk; calls `onReply` with each audio reply.
 */
function stream(mic, path, params, onReply) {
  const socket = connect(path);
  let answered = 0;
  let unpipe = () => {};
  socket.onopen = () => {
    params.forEach((p) => socket.send(p));
    unpipe = mic.pipeTo(socket);
  };
  socket.onmessage = ({ data }) => {
    if (answered++ < params.length) {
      if (data !== '200') log(`${path}: parameter rejected${socket.lastError ? `: ${socket.lastError}` : ''}`);
      return;
    }
    onReply(data);
  };
  socket.onerror = () => log(`${path}: connection failed${socket.lastError ? `: ${socket.lastError}` : ''}`);
  socket.onclose = ({ code }) => log(`${path}: closed (${code})`);
  return () => {
    unpipe();
    socket.close();
  };
}

// ---- model loading progress ----
onProgress(({ model, phase, loaded, total }) => {
  const bar = $('progress');
  bar.hidden = phase === 'ready';
  if (phase === 'download' && total) bar.firstElementChild.style.width = `${(100 * loaded) / total}%`;
  const name = model === 'vad' ? 'voice activity model' : 'speaker model';
  if (phase === 'download') status(`loading the ${name}… ${Math.round(loaded / 1e5) / 10} MB`);
  if (phase === 'plan') status(`preparing the ${name}…`);
  if (phase === 'ready') status(`${name} ready`);
});

// ---- enrollment ----
let template = null;

function setTemplate(value) {
  template = value?.trim() || null;
  $('template').value = template ?? '';
  $('template-save').disabled = !template;
  $('verify-start').disabled = !template;
  $('decision').textContent = template ? 'template ready' : 'no template yet';
}

/** What to do about each quality problem. */
const ADVICE = {
  too_quiet: 'too quiet: speak up or come closer',
  too_noisy: 'noisy: a quieter place will verify better',
  clipped: 'distorted: lower the microphone gain',
  too_little_speech: 'too little speech: keep talking',
};

const advice = (problems) => problems.map((problem) => ADVICE[problem] ?? problem).join('; ');

function showQuality(quality) {
  const snr = quality.snr_db === null ? 'n/a' : `${quality.snr_db.toFixed(0)} dB`;
  const verdict = quality.problems.length ? advice(quality.problems) : 'good';
  $('quality').textContent = `speech ${quality.speech_length.toFixed(1)} s, SNR ${snr} — ${verdict}`;
  $('quality').dataset.speech = quality.speech_length;
}

/** Live progress of a guided enrollment: the bar and the advice for the last seconds. */
function showEnrollProgress({ percent, speechSeconds, neededSeconds, problems }) {
  $('enroll-progress').value = percent;
  $('enroll-progress').dataset.percent = percent;
  $('enroll-advice').textContent = problems.length ? advice(problems) : `${speechSeconds.toFixed(1)} of ${neededSeconds} s of speech`;
}

/** Posts `body` to a REST endpoint of this server; returns the text or throws its reason. */
async function rest(path, body) {
  const response = await fetch(path, { method: 'POST', body });
  const text = await response.text();
  if (!response.ok) {
    let reason = text;
    try {
      reason = JSON.parse(text).error ?? text;
    } catch {
      // not JSON: keep the text
    }
    throw new Error(`the server refused: ${reason}`);
  }
  return text;
}

/** Enrolls PCM16 samples (`rate`) or a WAV file (`rate` undefined), locally or on the server. */
async function enroll(audio, rate) {
  status('measuring the recording…');
  showQuality(await voiceQuality(audio.slice(0), rate));
  status(local() ? 'making the template in the browser…' : 'making the template on the server…');
  let made;
  if (local()) {
    made = rate === undefined ? await createTemplateFromWav(audio) : await createTemplateFromSamples(audio, rate);
  } else if (rate === undefined) {
    const form = new FormData();
    form.append('wav_file', audio, 'enroll.wav');
    made = await rest('/voice_template_factory/create_voice_template_from_file', form);
  } else {
    made = await rest(`/voice_template_factory/create_voice_template_from_samples?sample_rate=${rate}`, audio);
  }
  setTemplate(made);
  status('template ready: start verification');
  log(`enrolled (${local() ? 'local' : 'server'})`);
}

async function guarded(action) {
  try {
    await action();
  } catch (error) {
    status(error.message);
    log(`error: ${error.message}`);
  }
}

$('enroll-seconds-label').textContent = ENROLL_SECONDS;
$('enroll-record').onclick = () =>
  guarded(async () => {
    const mic = await microphone();
    const chunks = [];
    mic.onChunk((chunk) => chunks.push(new Int16Array(chunk)));
    $('enroll-record').disabled = true;
    status(`speak until the bar is full (${ENROLL_SECONDS} s of speech)`);
    try {
      // Progress and advice come from the engine in the browser in either mode.
      const recorded = await guidedEnroll({ seconds: ENROLL_SECONDS, microphone: mic, onProgress: showEnrollProgress });
      if (local()) {
        showQuality(recorded.quality);
        setTemplate(recorded.template);
        status('template ready: start verification');
        log('enrolled (local)');
      } else {
        const samples = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
        chunks.reduce((at, c) => (samples.set(c, at), at + c.length), 0);
        await enroll(samples, mic.sampleRate);
      }
    } finally {
      await mic.stop();
      $('enroll-record').disabled = false;
    }
  });

const enrollFile = (file) => file && guarded(() => enroll(file));
$('enroll-file').onchange = (event) => enrollFile(event.target.files[0]);
$('enroll-drop').ondragover = (event) => event.preventDefault();
$('enroll-drop').ondrop = (event) => {
  event.preventDefault();
  enrollFile(event.dataTransfer.files[0]);
};

$('template').onchange = () => setTemplate($('template').value);
$('template-save').onclick = () => {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([template], { type: 'text/plain' }));
  link.download = 'voice-template.txt';
  link.click();
  URL.revokeObjectURL(link.href);
};
$('template-file').onchange = async (event) => setTemplate(await event.target.files[0]?.text());

// ---- live verification ----
let stopVerify = null;
const probabilities = [];
const scores = [];

function showResult({ verify_result: { probability, score } }) {
  probabilities.push(probability);
  scores.push(Math.max(0, score));
  const decision = $('decision');
  decision.dataset.results = probabilities.length;
  decision.dataset.probability = probability;
  decision.dataset.score = score;
  decision.className = `decision ${probability >= 0.5 ? 'accept' : 'reject'}`;
  decision.textContent =
    score === 0 && probability === 0
      ? 'not enough speech in the window'
      : `${probability >= 0.5 ? 'same speaker' : 'different speaker'}: ${(100 * probability).toFixed(0)} % (score ${score.toFixed(2)})`;
  drawSeries($('verify-plot'), [
    { values: probabilities, color: '#3a6ee8' },
    { values: scores, color: '#e8923a' },
  ]);
}

$('verify-start').onclick = () =>
  guarded(async () => {
    const mic = await microphone();
    probabilities.length = 0;
    scores.length = 0;
    $('decision').textContent = `listening: first result after ${VERIFY_WINDOW_SECONDS} s`;
    const close = stream(mic, '/voice_verify_stream', [template, String(mic.sampleRate), String(VERIFY_WINDOW_SECONDS)], (data) =>
      JSON.parse(data).forEach(showResult),
    );
    stopVerify = async () => {
      close();
      await mic.stop();
    };
    $('verify-start').disabled = true;
    $('verify-stop').disabled = false;
  });
$('verify-stop').onclick = async () => {
  await stopVerify?.();
  $('verify-start').disabled = !template;
  $('verify-stop').disabled = true;
};

// ---- speech summary and endpoint, on one microphone ----
let stopSummary = null;
const frames = [];

function showSummary(data) {
  const reply = JSON.parse(data);
  frames.push(...reply.current_speech_summary.vad_result.frames);
  $('speech').textContent = `speech ${reply.speech_length.toFixed(2)} s`;
  $('background').textContent = `background ${reply.current_speech_summary.background_length.toFixed(2)} s`;
  $('trailing').textContent = `current silence ${reply.current_background_length.toFixed(2)} s`;
  drawFrameStrip($('frames'), frames);
}

/** Watches for the end of an utterance; re-arms after each one. */
function watchEndpoint(mic) {
  const endpoint = $('endpoint');
  endpoint.dataset.state = 'waiting';
  endpoint.textContent = 'endpoint: waiting for an utterance';
  let close = null;
  close = stream(mic, '/speech_endpoint_detector', [$('min-speech').value, $('silence').value, String(mic.sampleRate)], (data) => {
    if (data !== 'true' || endpoint.dataset.state === 'ended') return;
    endpoint.dataset.state = 'ended';
    endpoint.textContent = 'endpoint: utterance ended';
    close();
    setTimeout(() => stopSummary && (close = watchEndpoint(mic)), 1500);
  });
  return () => close();
}

$('summary-start').onclick = () =>
  guarded(async () => {
    const mic = await microphone();
    frames.length = 0;
    const closeSummary = stream(mic, '/speech_summary_stream?frames=new', [String(mic.sampleRate)], showSummary);
    const closeEndpoint = watchEndpoint(mic);
    stopSummary = async () => {
      stopSummary = null;
      closeSummary();
      closeEndpoint();
      await mic.stop();
    };
    $('summary-start').disabled = true;
    $('summary-stop').disabled = false;
  });
$('summary-stop').onclick = async () => {
  await stopSummary?.();
  $('summary-start').disabled = false;
  $('summary-stop').disabled = true;
};

$('mode').onchange = showUrl;
showUrl();

// Works offline after the first visit: the app shell is cached by a service
// worker (the models by the package's worker, in the Cache API).
if ('serviceWorker' in navigator && window.isSecureContext) {
  navigator.serviceWorker.register('sw.js').catch((error) => log(`offline cache unavailable: ${error.message}`));
}
