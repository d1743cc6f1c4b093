/**
 * Running mean / variance of observation vectors (Welford's update; Chan et al.'s pairwise merge),
 * the state ARS V2 normalises observations with. Same conventions as the ARS reference code
 * (code/filter.py `RunningStat`): the variance is the sample variance (divisor n - 1), and with
 * fewer than 2 samples it is mean^2 (so sigma = |mean|); before any sample mu = 0, sigma = 1
 * (ARS's Sigma_0 = I).
 *
 * Merging is exact algebra but not bitwise associative, so ARS merges the per-rollout statistics
 * in a fixed order (direction k, + then -), which makes training independent of the worker count.
 */
export class RunningStat {
  readonly size: number;
  n = 0;
  readonly mean: Float64Array;
  /** Sum of squared deviations from the mean. */
  readonly m2: Float64Array;

  constructor(size: number) {
    this.size = size;
    this.mean = new Float64Array(size);
    this.m2 = new Float64Array(size);
  }

  static from(json: { n: number; mean: ArrayLike<number>; m2: ArrayLike<number> }): RunningStat {
    const s = new RunningStat(json.mean.length);
    s.n = json.n;
    s.mean.set(json.mean);
    s.m2.set(json.m2);
    return s;
  }

  /** Add one sample x[offset .. offset+size). */
  push(x: ArrayLike<number>, offset = 0): void {
    const n1 = this.n;
    this.n = n1 + 1;
    const { mean, m2, size } = this;
    if (n1 === 0) {
      for (let k = 0; k < size; k++) mean[k] = x[offset + k];
      return;
    }
    const inv = 1 / this.n;
    for (let k = 0; k < size; k++) {
      const d = x[offset + k] - mean[k];
      mean[k] += d * inv;
      m2[k] += d * d * n1 * inv;
    }
  }

  /** Merge another statistic into this one (as if its samples had been pushed here). */
  merge(other: { n: number; mean: ArrayLike<number>; m2: ArrayLike<number> }): void {
    if (other.mean.length !== this.size) throw new RangeError(`RunningStat.merge: size ${other.mean.length} != ${this.size}`);
    const n1 = this.n;
    const n2 = other.n;
    if (n2 === 0) return;
    if (n1 === 0) {
      this.n = n2;
      this.mean.set(other.mean);
      this.m2.set(other.m2);
      return;
    }
    const n = n1 + n2;
    for (let k = 0; k < this.size; k++) {
      const d = other.mean[k] - this.mean[k];
      this.mean[k] = (n1 * this.mean[k] + n2 * other.mean[k]) / n;
      this.m2[k] = this.m2[k] + other.m2[k] + (d * d * n1 * n2) / n;
    }
    this.n = n;
  }

  /** Sample variance (n - 1); mean^2 when n < 2 (ARS convention). */
  variance(): Float64Array {
    const v = new Float64Array(this.size);
    for (let k = 0; k < this.size; k++) v[k] = this.n > 1 ? this.m2[k] / (this.n - 1) : this.mean[k] * this.mean[k];
    return v;
  }

  /** The normaliser (mu, sigma) these statistics give: (0, 1) before any sample. */
  normaliser(): { mu: Float64Array; sigma: Float64Array } {
    if (this.n === 0) return { mu: new Float64Array(this.size), sigma: new Float64Array(this.size).fill(1) };
    return { mu: Float64Array.from(this.mean), sigma: this.variance().map(Math.sqrt) };
  }

  toJSON(): { n: number; mean: number[]; m2: number[] } {
    return { n: this.n, mean: Array.from(this.mean), m2: Array.from(this.m2) };
  }
}
