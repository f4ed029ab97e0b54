// A TypeScript app using the package's types as documented: compiled with
// `tsc --strict --noEmit` by packaging.test.mjs; a wrong type here (or in
// index.d.ts) fails the test.
import {
  ENDPOINT_PATHS,
  LocalVoiceSocket,
  REST_PATHS,
  SpeechSegments,
  enroll,
  installVoiceServerShim,
  installWebSocketShim,
  matchTemplates,
  onProgress,
  openMicrophone,
  speechSummaryFromSamples,
  supported,
  type EnrollProgress,
  type MatchResult,
  type QualityProblem,
  type SpeechEvent,
  type SpeechSummary,
} from 'voiceport';

const paths: readonly string[] = [...ENDPOINT_PATHS, ...REST_PATHS];
const uninstall: () => void = installVoiceServerShim({ match: /voice-server/, fallback: true });
const uninstallSockets: () => void = installWebSocketShim({ match: (url: URL) => url.port === '8080' });

async function main(): Promise<void> {
  const { ok, reason }: { ok: boolean; reason: string | null } = await supported();
  if (!ok) console.warn(reason);
  const socket = new LocalVoiceSocket('voiceport://local/speech_summary_stream', [], { fallback: false });
  socket.binaryType = 'arraybuffer';
  socket.onmessage = (event: MessageEvent<string>) => {
    const reply = JSON.parse(event.data) as { speech_events?: SpeechEvent[] };
    const voiced: number = (reply.speech_events ?? []).filter((e) => e.is_voice).length;
    console.log(voiced, socket.readyState === LocalVoiceSocket.OPEN, socket.lastError);
  };
  socket.onopen = () => socket.send('16000');
  const summary: SpeechSummary = await speechSummaryFromSamples(new Int16Array(1600), 16000);
  const first: SpeechEvent | undefined = summary.speech_events[0];
  const end: number | undefined = first?.audio_interval.end_time;
  const match: MatchResult = await matchTemplates('a', 'b');
  const stop = onProgress(({ model, phase }) => console.log(model, phase));
  const mic = await openMicrophone({ chunkMs: 50 });
  const unpipe: () => void = mic.pipeTo(socket);
  const detector = new SpeechSegments({
    redemptionMs: 600,
    onSpeechEnd: (audio: Float32Array, { start, end: until }: { start: number; end: number }) => console.log(audio.length, start, until),
    onFrame: (probability: number, isSpeech: boolean) => console.log(probability, isSpeech),
  });
  await detector.push(new Float32Array(1600), 16000);
  await detector.flush();
  await detector.destroy();
  const { template, quality } = await enroll({
    seconds: 8,
    microphone: mic,
    onProgress: ({ percent, problems }: EnrollProgress) => console.log(percent, problems),
  });
  const problems: QualityProblem[] = quality.problems;
  console.log(paths.length, end, match.probability, template.length, problems);
  unpipe();
  stop();
  await mic.stop();
  uninstall();
  uninstallSockets();
}

void main();
