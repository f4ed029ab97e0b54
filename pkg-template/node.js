// voiceport for Node.js (≥ 20): the same API, the engine in a
// `worker_threads` worker that reads the wasm module and the models from
// the package's own files. The worker does not keep the process alive
// while nothing is asked of it.
import { Worker } from 'node:worker_threads';
import { useWorkerHost } from './engine.js';

useWorkerHost({
  missing: () => (typeof WebAssembly === 'object' ? null : 'WebAssembly is not available'),
  start(onMessage, onError) {
    // The process's own flags, less those that only fit its main script
    // (`node --input-type=module -e …` would stop the worker from starting).
    const execArgv = process.execArgv.filter((flag) => !flag.startsWith('--input-type'));
    const worker = new Worker(new URL('./node-worker.js', import.meta.url), { name: 'voiceport', execArgv });
    worker.on('message', onMessage);
    worker.on('error', (error) => onError(error.message));
    worker.unref();
    return {
      postMessage: (message, transfer) => worker.postMessage(message, transfer),
      terminate: () => worker.terminate(),
      keepAlive: (busy) => (busy ? worker.ref() : worker.unref()),
    };
  },
});

export * from './index.js';
