// A tinypool worker of `gmemcheck fuzz`: TypeScript through the pinned tsx (a worker does not
// inherit the loader of the thread that started it), then the unit task module.
import { register } from 'tsx/esm/api';

register();
const task = await import('./unitTask.ts');
export default task.default;
