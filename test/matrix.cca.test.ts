import { matrixSuite } from './matrixCells.js';

matrixSuite('cca');
