/** `ofql-eval list`: suites, simulated environments and built-in policies. */
import type { CommandModule } from 'yargs';
import { SUITES } from '../env-list.js';
import { EXIT, write } from '../cli-errors.js';
import { BUILTIN_POLICY_NAMES } from '../policy/load.js';
import { listEnvs } from '../registry.js';

function list(): number {
  write('Suites (--env NAME):\n');
  for (const [name, ids] of Object.entries(SUITES)) write(`  ${name}: ${ids.join(', ')}\n`);
  write('\nSimulated environments (--env ID):\n');
  for (const id of listEnvs({ simulated: true })) write(`  ${id}\n`);
  write(`\nBuilt-in policies (--policy NAME): ${BUILTIN_POLICY_NAMES.join(', ')}\n`);
  return EXIT.ok;
}

export function listCommand(setExitCode: (code: number) => void): CommandModule<object, object> {
  return { command: 'list', describe: 'List environments, suites and built-in policies', builder: {}, handler: () => setExitCode(list()) };
}
