// One program over one history file, in its own thread: the file's raw bytes go straight
// into the wasm `Simulation` chunk by chunk (no string per line), progress goes back after
// each chunk, the report at the end.
import { parentPort, workerData } from 'node:worker_threads';
import { createReadStream } from 'node:fs';
import { Simulation } from './wasm.js';

const { program, zone, secret, events } = workerData;
// The simulation is not freed: the thread ends right after, and dropping millions of
// accounts and orders one by one would only cost time.
let sim;
try {
  sim = new Simulation(program, zone, secret);
  let bytes = 0;
  for await (const chunk of createReadStream(events, { highWaterMark: 1 << 20 })) {
    const read = sim.feed(chunk);
    bytes += chunk.length;
    parentPort.postMessage({ progress: { bytes, events: read } });
  }
  parentPort.postMessage({ report: sim.finish() });
} catch (err) {
  parentPort.postMessage({ error: err?.message ?? String(err) });
}
