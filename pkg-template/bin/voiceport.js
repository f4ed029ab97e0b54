#!/usr/bin/env node
// The voiceport command line: the engine of the npm package over audio
// files (WAV at any rate and format; Ogg Opus for the streamed commands).
// Exit codes: 0 done, 1 the input could not be processed, 2 bad usage.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  LocalVoiceSocket,
  SpeechSegments,
  createTemplateFromWav,
  decodeWav,
  matchTemplates,
  speechSummaryFromWav,
} from '../node.js';

/** A mistake in the command line (exit code 2). */
class UsageError extends Error {}

/** The input could not be processed (exit code 1). */
class InputError extends Error {}

const OGG_MAGIC = 'OggS';
/** Audio per streamed message, in seconds (the endpoint's time resolution). */
const CHUNK_SECONDS = 0.1;
/** Recordings at least this long report progress on stderr. */
const PROGRESS_AFTER_SECONDS = 30;

const COMMANDS = {
  summary: {
    usage: 'voiceport summary FILE',
    help: 'The speech summary of a recording (JSON): speech and background lengths, 30 ms frames, speech events.',
    options: {},
    run: summary,
  },
  endpoint: {
    usage: 'voiceport endpoint FILE [--min-speech MS] [--silence MS]',
    help: 'Whether the first utterance ends (JSON), and after how many seconds of audio (null for Ogg).',
    options: {
      'min-speech': { type: 'string', default: '300', help: 'speech needed before an endpoint, ms (300)' },
      silence: { type: 'string', default: '800', help: 'silence after speech that ends it, ms (800)' },
    },
    run: endpoint,
  },
  template: {
    usage: 'voiceport template FILE > template.txt',
    help: 'A base64 voice template of the speaker of a WAV recording (needs ≥ 1 s of speech).',
    options: {},
    run: template,
  },
  verify: {
    usage: 'voiceport verify --template FILE.txt FILE [--window SECONDS]',
    help: 'Continuous verification against a template: one JSON line per result.',
    options: {
      template: { type: 'string', help: 'file holding the base64 template (required)' },
      window: { type: 'string', default: '3', help: 'seconds of audio per result (3)' },
    },
    run: verify,
  },
  match: {
    usage: 'voiceport match TEMPLATE1.txt TEMPLATE2.txt',
    help: 'Compares two template files (JSON): {"score": …, "probability": …}.',
    options: {},
    operands: 2,
    run: match,
  },
  segments: {
    usage: 'voiceport segments FILE [--redemption-ms MS] [--pre-speech-pad-ms MS] [--min-speech-ms MS]',
    help: 'Speech segments of a WAV recording: one JSON line per segment (start and end in ms, or a misfire).',
    options: {
      'redemption-ms': { type: 'string', help: 'silence that ends a segment (1400)' },
      'pre-speech-pad-ms': { type: 'string', help: 'audio kept before speech (800)' },
      'min-speech-ms': { type: 'string', help: 'speech below which a segment is a misfire (400)' },
    },
    run: segments,
  },
};

function mainHelp() {
  const lines = Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(9)} ${command.help}`);
  return `Usage: voiceport <command> [options]\n\nCommands:\n${lines.join('\n')}\n\n` +
    'Run `voiceport <command> --help` for a command\'s options. Audio: WAV (any rate, PCM or float);\n' +
    'Ogg Opus for summary, endpoint and verify. Exit codes: 0 done, 1 input not processed, 2 bad usage.';
}

function commandHelp(command) {
  const options = Object.entries(command.options).map(([name, option]) => `  --${name.padEnd(18)} ${option.help}`);
  return `Usage: ${command.usage}\n\n${command.help}${options.length ? `\n\nOptions:\n${options.join('\n')}` : ''}`;
}

/** A non-negative integer option. */
function integer(value, name) {
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number of milliseconds (got "${value}")`);
  return Number(value);
}

async function readInput(path) {
  try {
    return await readFile(path);
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  }
}

function isOgg(bytes) {
  return bytes.subarray(0, 4).toString('latin1') === OGG_MAGIC;
}

function requireWav(bytes, path, what) {
  if (isOgg(bytes)) throw new InputError(`${path}: ${what} needs a WAV file (Ogg Opus is read by summary, endpoint and verify)`);
}

/** Reports how far a long recording has been processed, every 10 %. */
function progress(totalSeconds) {
  if (totalSeconds < PROGRESS_AFTER_SECONDS) return () => {};
  let reported = 0;
  return (doneSeconds) => {
    const tenths = Math.floor((10 * doneSeconds) / totalSeconds);
    if (tenths > reported) {
      reported = tenths;
      process.stderr.write(`voiceport: ${tenths * 10}% of ${totalSeconds.toFixed(1)} s\n`);
    }
  };
}

/**
 * Streams a recording to an endpoint through a local socket: the
 * parameters (`parametersAt(sampleRate)`), then the audio a chunk at a time
 * (each reply awaited); `onReply(reply, secondsSent)` sees every audio reply
 * and returns true to stop.
 */
async function stream(path, bytes, endpoint, parametersAt, onReply) {
  let chunks;
  let sampleRate;
  let url = `voiceport://local/${endpoint}`;
  let totalSeconds;
  if (isOgg(bytes)) {
    url += '_opus';
    sampleRate = 48000;
    // Ogg pages as they come; progress by bytes.
    const size = 16 * 1024;
    chunks = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
    totalSeconds = null;
  } else {
    const decoded = await decodeWav(bytes).catch((error) => {
      throw new InputError(`${path}: ${error.message}`);
    });
    sampleRate = decoded.sampleRate;
    const pcm = new Uint8Array(decoded.pcm16);
    const size = 2 * Math.round(sampleRate * CHUNK_SECONDS);
    chunks = Array.from({ length: Math.ceil(pcm.length / size) }, (_, i) => pcm.subarray(i * size, (i + 1) * size));
    totalSeconds = pcm.length / 2 / sampleRate;
  }
  const report = progress(totalSeconds ?? 0);
  const socket = new LocalVoiceSocket(url);
  const replies = [];
  let waiting = null;
  socket.onmessage = ({ data }) => {
    replies.push(data);
    waiting?.();
  };
  const closed = new Promise((resolve) => {
    socket.onclose = resolve;
  });
  socket.onerror = () => waiting?.();
  const next = async () => {
    while (replies.length === 0) {
      if (socket.readyState >= LocalVoiceSocket.CLOSING) throw new InputError(`${path}: ${socket.lastError ?? 'the engine failed'}`);
      await new Promise((resolve) => {
        waiting = resolve;
      });
      waiting = null;
    }
    return replies.shift();
  };
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    closed.then(() => reject(new InputError(`${path}: ${socket.lastError ?? 'the engine could not start'}`)));
  });
  try {
    for (const parameter of parametersAt(String(sampleRate))) {
      socket.send(parameter);
      if ((await next()) !== '200') throw new InputError(socket.lastError ?? `parameter refused: ${parameter}`);
    }
    for (const [index, chunk] of chunks.entries()) {
      socket.send(chunk);
      const reply = await next();
      if (reply === '500') throw new InputError(`${path}: ${socket.lastError ?? 'audio refused'}`);
      const done = totalSeconds === null ? null : Math.min(totalSeconds, Math.round((index + 1) * CHUNK_SECONDS * 1000) / 1000);
      if (onReply(reply, done)) break;
      if (done !== null) report(done);
    }
  } finally {
    socket.close();
  }
}

async function summary([path]) {
  const bytes = await readInput(path);
  if (!isOgg(bytes)) {
    const result = await speechSummaryFromWav(bytes).catch((error) => {
      throw new InputError(`${path}: ${error.message}`);
    });
    return JSON.stringify(result);
  }
  let last = null;
  await stream(path, bytes, 'speech_summary_stream', (rate) => [rate], (reply) => {
    last = reply;
  });
  return last;
}

async function endpoint([path], options) {
  const minSpeech = integer(options['min-speech'], 'min-speech');
  const silence = integer(options.silence, 'silence');
  const bytes = await readInput(path);
  const parameters = (rate) => [String(minSpeech), String(silence), rate];
  let reached = null;
  await stream(path, bytes, 'speech_endpoint_detector', parameters, (reply, done) => {
    if (reply === 'true') reached = { endpoint: true, seconds: done };
    return reached !== null;
  });
  return JSON.stringify(reached ?? { endpoint: false });
}

async function template([path]) {
  const bytes = await readInput(path);
  requireWav(bytes, path, 'template');
  return createTemplateFromWav(bytes).catch((error) => {
    throw new InputError(`${path}: ${error.message}`);
  });
}

async function readTemplate(path) {
  const text = (await readInput(path)).toString('utf8').trim();
  if (!text) throw new InputError(`${path}: empty template file`);
  return text;
}

async function verify([path], options) {
  if (!options.template) throw new UsageError('--template FILE is required');
  const window = Number(options.window);
  if (!(window > 0)) throw new UsageError(`--window must be a positive number of seconds (got "${options.window}")`);
  const template = await readTemplate(options.template);
  const bytes = await readInput(path);
  await stream(path, bytes, 'voice_verify_stream', (rate) => [template, rate, String(window)], (reply) => {
    for (const result of JSON.parse(reply)) process.stdout.write(`${JSON.stringify(result)}\n`);
  });
  return null;
}

async function match([first, second]) {
  const [a, b] = await Promise.all([readTemplate(first), readTemplate(second)]);
  const result = await matchTemplates(a, b).catch((error) => {
    throw new InputError(error.message);
  });
  return JSON.stringify(result);
}

async function segments([path], options) {
  const names = { 'redemption-ms': 'redemptionMs', 'pre-speech-pad-ms': 'preSpeechPadMs', 'min-speech-ms': 'minSpeechMs' };
  const settings = {};
  for (const [flag, name] of Object.entries(names)) {
    if (options[flag] !== undefined) settings[name] = integer(options[flag], flag);
  }
  const bytes = await readInput(path);
  requireWav(bytes, path, 'segments');
  const decoded = await decodeWav(bytes).catch((error) => {
    throw new InputError(`${path}: ${error.message}`);
  });
  const write = (entry) => process.stdout.write(`${JSON.stringify(entry)}\n`);
  const detector = new SpeechSegments({
    ...settings,
    onSpeechEnd: (audio, { start, end }) => write({ start, end }),
    onMisfire: ({ start, end }) => write({ start, end, misfire: true }),
  });
  const pcm = new Int16Array(decoded.pcm16);
  const size = Math.round(decoded.sampleRate * CHUNK_SECONDS);
  const totalSeconds = pcm.length / decoded.sampleRate;
  const report = progress(totalSeconds);
  try {
    for (let offset = 0; offset < pcm.length; offset += size) {
      await detector.push(pcm.subarray(offset, offset + size), decoded.sampleRate);
      report(Math.min(totalSeconds, (offset + size) / decoded.sampleRate));
    }
    await detector.flush();
  } catch (error) {
    throw new InputError(`${path}: ${error.message}`);
  } finally {
    await detector.destroy();
  }
  return null;
}

async function main(argv) {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') return { out: mainHelp() };
  if (name === '--version') return { out: JSON.parse(await readFile(new URL('../package.json', import.meta.url))).version };
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`unknown command "${name}"\n\n${mainHelp()}`);
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(Object.entries(command.options).map(([key, option]) => [key, { type: option.type, default: option.default }])),
      },
    });
  } catch (error) {
    throw new UsageError(`${error.message}\n\n${commandHelp(command)}`);
  }
  if (parsed.values.help) return { out: commandHelp(command) };
  const operands = command.operands ?? 1;
  if (parsed.positionals.length !== operands) {
    throw new UsageError(`expected ${operands === 1 ? 'one file' : `${operands} files`}, got ${parsed.positionals.length}\n\n${commandHelp(command)}`);
  }
  return { out: await command.run(parsed.positionals, parsed.values) };
}

// A reader that stops early (`| head`) ends the output, not in an error.
process.stdout.on('error', (error) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

try {
  const { out } = await main(process.argv.slice(2));
  if (out !== null && out !== undefined) process.stdout.write(`${out}\n`);
} catch (error) {
  process.stderr.write(`voiceport: ${error.message}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
