// Shared by the pages of this folder, written as a client of the original
// voice server (3.x) is: classic scripts, hard-coded server URLs,
// ScriptProcessorNode capture, XMLHttpRequest enrollment, JSON.parse of
// every message, audio sent from the capture callback without checking
// readyState. Nothing here knows of voiceport.
var VOICE_SERVER = 'voice-server:8080';
var refusedChunks = 0;

/** Little-endian PCM16 of float samples. */
function toPcm16(samples) {
  var pcm = new Int16Array(samples.length);
  for (var i = 0; i < samples.length; i++) {
    var s = Math.max(-1, Math.min(1, samples[i]));
    pcm[i] = s < 0 ? s * 0x8000 : s * 0x7fff;
  }
  return pcm;
}

/** Captures the microphone; calls onChunk(pcm16 ArrayBuffer) every 4096 samples. */
function startCapture(onReady, onChunk) {
  navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
    var context = new AudioContext();
    var source = context.createMediaStreamSource(stream);
    var processor = context.createScriptProcessor(4096, 1, 1);
    onReady(context.sampleRate);
    processor.onaudioprocess = function (event) {
      var pcm = toPcm16(event.inputBuffer.getChannelData(0));
      onChunk(pcm.buffer);
    };
    source.connect(processor);
    processor.connect(context.destination);
    window.stopCapture = function () {
      processor.disconnect();
      stream.getTracks().forEach(function (track) { track.stop(); });
      context.close();
    };
  });
}

/** Sends a chunk as such clients do; a refused one is counted. */
function sendChunk(socket, chunk) {
  try {
    socket.send(chunk);
  } catch (error) {
    refusedChunks++;
  }
}

/** PCM16 samples of a 16 kHz WAV file, read with XMLHttpRequest. */
function loadWavSamples(url, done) {
  var req = new XMLHttpRequest();
  req.open('GET', url);
  req.responseType = 'arraybuffer';
  req.onload = function () { done(req.response.slice(44)); };
  req.send();
}

/** Enrolls PCM16 samples: the template text, or null on failure. */
function enroll(pcm, sampleRate, done) {
  var req = new XMLHttpRequest();
  req.open('POST', 'http://' + VOICE_SERVER + '/voice_template_factory/create_voice_template_from_samples?sample_rate=' + sampleRate);
  req.setRequestHeader('Content-Type', 'application/octet-stream');
  req.onreadystatechange = function () {
    if (req.readyState === 4) done(req.status === 200 ? req.response : null, req.status);
  };
  req.send(pcm);
}

/**
 * Streams `seconds` of the microphone to the endpoint `path`: sends the
 * parameters `params(sampleRate)` when the socket opens, then every capture
 * chunk; each reply goes to `onReply(parsed JSON)`. Once every message has
 * its reply the socket is closed and window.done set.
 */
function streamMicrophone(path, params, seconds, onReply) {
  var chunks = 0;
  var expected = Infinity;
  var replies = 0;
  var socket;
  startCapture(function (sampleRate) {
    socket = new WebSocket('ws://' + VOICE_SERVER + path);
    var sent = params(sampleRate);
    socket.onopen = function () {
      sent.forEach(function (param) { socket.send(param); });
    };
    socket.onmessage = function (event) {
      replies++;
      onReply(JSON.parse(event.data), event.data);
      if (replies === expected) { socket.close(); window.done = true; }
    };
    window.sampleRate = sampleRate;
    window.paramCount = sent.length;
  }, function (chunk) {
    if (expected !== Infinity) return;
    if (chunks * 4096 >= seconds * window.sampleRate) {
      window.stopCapture();
      expected = window.paramCount + chunks;
      if (replies === expected) { socket.close(); window.done = true; }
      return;
    }
    chunks++;
    sendChunk(socket, chunk);
  });
}
