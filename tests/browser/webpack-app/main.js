// A fresh webpack 5 app: the package imported by name, no loaders or asset
// configuration (webpack.config.js only names the entry and output).
import { LocalVoiceSocket, preload } from 'voiceport';

/** One second of silence through the summary stream, then the speaker model is loaded. */
window.run = () =>
  new Promise((resolve, reject) => {
    const replies = [];
    const socket = new LocalVoiceSocket('voiceport://local/speech_summary_stream');
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
