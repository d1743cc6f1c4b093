/** The transitions TD learning reads (made by d4rl-hdf5.ts `qlearningDataset` and minari.ts); a module of its own so neither reader imports the other. */
/** Transitions for TD learning. Flat row-major arrays; `terminals` is float 0/1 so `1 - d` is direct. */
export interface QLearningDataset {
  /** Number of transitions. */
  N: number;
  observationSize: number;
  actionSize: number;
  observations: Float32Array;
  actions: Float32Array;
  nextObservations: Float32Array;
  rewards: Float32Array;
  /** 1 where the transition ended in a true termination (never for timeouts), else 0. */
  terminals: Float32Array;
  /** Row of the source dataset each transition came from. */
  sourceIndex: Uint32Array;
}
