// The code of every fresh app of packaging.test.mjs (copied into each): the
// package imported by name, with no bundler configuration.
import { LocalVoiceSocket, preload } from 'voiceport';

/** One second of silence through the summary stream, then the speaker model is loaded. */
window.run = () =>
  new Promise((resolve, reject) => {
    const replies = [];
    const socket = new LocalVoiceSocket('voiceport://local/speech_summary_stream');
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => {
      socket.send('16000');
      socket.send(new Int16Array(16000));
    };
    socket.onmessage = ({ data }) => {
      replies.push(data);
      if (replies.length === 2) socket.close();
    };
    socket.onerror = () => reject(new Error(socket.lastError));
    socket.onclose = async () => resolve({ replies, speakerModel: await preload({ speaker: true }) });
  });
window.ready = true;
