/**
 * Why each branch of model/revisions/ and model/backends/ that the explorations never take stays
 * unreached (bench/branches.ts reads this). An entry names a file and a piece of the branch's
 * source line (every unreached branch on a line containing it is explained), the kind of reason,
 * and the reason itself, with the C it follows where the branch is dead there too.
 */
export interface BranchTriage {
  readonly file: string;
  /** A substring of the source line the unreached branch starts on. */
  readonly text: string;
  readonly kind: 'dead in the C' | 'what-if mode' | 'debug config' | 'defensive' | 'unit tests only' | 'generator gap';
  readonly reason: string;
}

export const BRANCH_TRIAGE: readonly BranchTriage[] = [];
