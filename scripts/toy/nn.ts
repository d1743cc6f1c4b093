/**
 * Mean nearest-neighbour distance from one 2-D point cloud to another (brute force, float64):
 *   nn(X -> Y) = (1/|X|) sum_{x in X} min_{y in Y} ||x - y||.
 * With X = generated and Y = held-out data this is a precision-like score (large when the model
 * puts mass where the data has none, e.g. between the arms of a spiral); with X = data and
 * Y = generated, a coverage-like score (large when the model misses part of the data).
 * A complement to the sliced Wasserstein distance, which averages over projections and can
 * under-weight mass placed in the gaps of a distribution.
 */
export function meanNearestDistance(X: ArrayLike<number>, Y: ArrayLike<number>): number {
  if (X.length % 2 !== 0 || Y.length % 2 !== 0) throw new RangeError('point arrays must hold (x, y) pairs');
  const n = X.length / 2;
  const m = Y.length / 2;
  if (n === 0 || m === 0) throw new RangeError('meanNearestDistance: empty point set');
  // Sort Y by x so that the scan can stop once |dx| exceeds the best distance so far.
  const order = Array.from({ length: m }, (_, j) => j).sort((a, b) => Y[2 * a]! - Y[2 * b]!);
  const yx = Float64Array.from(order, (j) => Y[2 * j]!);
  const yy = Float64Array.from(order, (j) => Y[2 * j + 1]!);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = X[2 * i]!;
    const y = X[2 * i + 1]!;
    // Binary search for the first yx >= x, then expand both ways.
    let lo = 0;
    let hi = m;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (yx[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    let best = Infinity;
    for (let j = lo; j < m; j++) {
      const dx = yx[j]! - x;
      if (dx * dx >= best) break;
      const d = dx * dx + (yy[j]! - y) ** 2;
      if (d < best) best = d;
    }
    for (let j = lo - 1; j >= 0; j--) {
      const dx = x - yx[j]!;
      if (dx * dx >= best) break;
      const d = dx * dx + (yy[j]! - y) ** 2;
      if (d < best) best = d;
    }
    sum += Math.sqrt(best);
  }
  return sum / n;
}
