/** Errors that name the policy (and, at run time, the episodes) at fault. */
import { existsSync, statSync } from 'node:fs';

/** The policy could not be found, imported or constructed. */
export class PolicyLoadError extends Error {
  readonly policy: string;
  constructor(policy: string, message: string, options?: { cause?: unknown }) {
    super(`policy ${policy}: ${message}`, options);
    this.name = 'PolicyLoadError';
    this.policy = policy;
  }
}

export type PolicyFailureKind = 'threw' | 'non-finite' | 'wrong-length' | 'bad-type' | 'timeout';

/** The policy misbehaved while acting: threw, returned NaN / a wrong length, or never answered. */
export class PolicyError extends Error {
  readonly policy: string;
  readonly envId: string;
  readonly kind: PolicyFailureKind;
  /** Global indices of the episodes in the failing `act` call (the culprit row first when known). */
  readonly episodes: number[];
  constructor(
    args: { policy: string; envId: string; kind: PolicyFailureKind; episodes: number[]; detail: string },
    options?: { cause?: unknown },
  ) {
    super(
      `policy ${args.policy} failed on ${args.envId}, ${formatEpisodes(args.episodes)}: ${args.detail}`,
      options,
    );
    this.name = 'PolicyError';
    this.policy = args.policy;
    this.envId = args.envId;
    this.kind = args.kind;
    this.episodes = args.episodes;
  }
}

/** "episode 3" / "episodes 3, 4, 9" (long lists shortened). */
export function formatEpisodes(episodes: readonly number[]): string {
  if (episodes.length === 1) return `episode ${episodes[0]}`;
  const shown = episodes.length > 12 ? [...episodes.slice(0, 12).map(String), `... (${episodes.length} in all)`] : episodes.map(String);
  return `episodes ${shown.join(', ')}`;
}

/** The policy file a kind names must be a file: PolicyLoadError "no <what> at <file>" otherwise. */
export function requirePolicyFile(policy: string, file: string, what: string): void {
  if (!existsSync(file)) throw new PolicyLoadError(policy, `no ${what} at ${file}`);
  if (!statSync(file).isFile()) throw new PolicyLoadError(policy, `${file} is not a file`);
}
