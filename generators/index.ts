export { scenarioArb, bodyOpArb } from './scenario.js';
export { layoutArb } from './layout.js';
export type { Layout } from './layout.js';
export { callFaultArb, faultArb, faultPlanArb } from './faultPlan.js';
export { srcOffsetArb } from './srcOffset.js';
export { pageCountArb } from './pageCount.js';
export { sourceAddrArb, gfnInSlotArb } from './sourceAddr.js';
export { geometryArb } from './geometry.js';
export { ubArb, UB_SITES } from './ub.js';
