// `npm start`: build if needed, then run the server in this very process. The script is `exec node ...`, so
// npm's child is the server itself and npm's forwarding of SIGINT/SIGTERM reaches it; no shell in between.
import './ensure-build.mjs';

// Should npm die without passing a signal on (SIGKILL), the server stops gracefully instead of living on.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGTERM');
}, 1000).unref();

await import('../dist/src/server.js');
