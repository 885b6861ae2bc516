// A tinypool worker for the detection benchmark: TypeScript through tsx, then the task module.
import { register } from 'tsx/esm/api';

register();
const task = await import('./detectTask.ts');
export default task.default;
