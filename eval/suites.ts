/** Named groups of environments accepted by `--env`: src/env-list.ts, re-exported for the harness's public API. */
export { EnvListError, SUITES, expandEnvList } from '../src/env-list.js';
