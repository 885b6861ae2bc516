import { matrixSuite } from './matrixCells.js';

matrixSuite('tdx');
