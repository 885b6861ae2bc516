import { matrixSuite } from './matrixCells.js';

matrixSuite('snp');
