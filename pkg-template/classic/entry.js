// voiceport-shim.js, the classic-script integration: in place before any
// classic script after it runs. `<script src=".../voiceport-shim.js">`
// installs the shim synchronously (WebSocket, fetch, XMLHttpRequest); the
// engine's worker starts on first use. `data-fallback="false"` on the
// script element turns the server fallback off. The package's API is
// `window.voiceport`.
import * as voiceport from '../index.js';
import { scriptElement } from './script-url.js';

voiceport.installVoiceServerShim({ fallback: scriptElement?.dataset.fallback !== 'false' });
globalThis.voiceport = voiceport;
