// Entry of gmemcheck's worker threads: TypeScript is loaded through the pinned tsx, which a
// worker does not inherit from the thread that started it, then the worker module named in
// workerData runs.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
