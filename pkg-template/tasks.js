// Event dispatch as tasks on a MessageChannel: unlike setTimeout, its tasks
// are not throttled in background tabs, so a hidden page gets its replies as
// fast as a real WebSocket's.

const queue = [];
let channel = null;

/** Runs `fn` as a task (never synchronously), after every task queued before. */
export function queueTask(fn) {
  if (!channel) {
    channel = new MessageChannel();
    channel.port1.onmessage = () => {
      const task = queue.shift();
      // Node.js: an idle port must not keep the process alive.
      if (queue.length === 0) channel.port1.unref?.();
      task?.();
    };
  }
  queue.push(fn);
  channel.port1.ref?.();
  channel.port2.postMessage(null);
}
