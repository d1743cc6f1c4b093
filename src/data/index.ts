/** Offline-RL dataset files: D4RL-layout HDF5 read/write, `qlearning_dataset`, Minari reading. */
export { DatasetError, type DatasetErrorCode } from './errors.js';
export {
  readD4rlFile,
  qlearningDataset,
  type D4rlDataset,
  type ReadD4rlOptions,
  type MetadataValue,
  type QLearningSource,
  type QLearningOptions,
  type QLearningDataset,
} from './d4rl-hdf5.js';
export { readMinariDataset, type ReadMinariOptions, type MinariTransitions } from './minari.js';
export {
  D4rlWriter,
  writeD4rlFile,
  type D4rlWriterOptions,
  type D4rlRows,
  type D4rlData,
  type BoolDtype,
} from './d4rl-writer.js';
export { envDims } from './env-dims.js';
export { d4rlContentSha256, DIGEST_FIELDS } from './digest.js';
