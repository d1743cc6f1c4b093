/**
 * Tiny dependency-free SVG writer for rows of 2-D scatter panels. Each panel's points are one
 * <path> of zero-length segments with round caps ("M x y h0" per point), in integer half-pixel
 * units (the path is drawn under scale(0.5)), which keeps a 2000-point panel around 20 kB.
 * Points outside the panel's square window are not drawn; the caption says how many were cut.
 */

export interface ScatterPanel {
  title: string;
  /** Row-major [n * 2]. */
  points: ArrayLike<number>;
  /** Optional second line under the title (e.g. the SWD). */
  subtitle?: string;
}

export interface ScatterOptions {
  /** Data window [-extent, extent]^2. */
  extent: number;
  /** Panel side in px. */
  size?: number;
  /** Max points drawn per panel (the first ones). */
  maxPoints?: number;
  /** Dot diameter in px. */
  dot?: number;
  /** Caption above the row. */
  heading?: string;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** x px as an integer number of half pixels. */
function half(x: number): string {
  return String(Math.round(2 * x));
}

export function scatterSvg(panels: readonly ScatterPanel[], opts: ScatterOptions): string {
  const size = opts.size ?? 180;
  const maxPoints = opts.maxPoints ?? 2000;
  const dot = opts.dot ?? 1.6;
  const gap = 10;
  const top = opts.heading ? 22 : 0;
  const titleH = 34;
  const W = panels.length * size + (panels.length + 1) * gap;
  const H = top + titleH + size + gap;
  const E = opts.extent;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
  );
  if (opts.heading) parts.push(`<text x="${gap}" y="16" font-size="14" font-weight="bold">${esc(opts.heading)}</text>`);
  panels.forEach((p, idx) => {
    const x0 = gap + idx * (size + gap);
    const y0 = top + titleH;
    const n = Math.min(maxPoints, Math.floor(p.points.length / 2));
    let d = '';
    let cut = 0;
    for (let i = 0; i < n; i++) {
      const x = p.points[2 * i]!;
      const y = p.points[2 * i + 1]!;
      if (!(Math.abs(x) <= E && Math.abs(y) <= E)) {
        cut++;
        continue;
      }
      const px = x0 + ((x + E) / (2 * E)) * size;
      const py = y0 + ((E - y) / (2 * E)) * size;
      d += `M${half(px)} ${half(py)}h0`;
    }
    parts.push(`<text x="${x0 + size / 2}" y="${top + 14}" font-size="13" text-anchor="middle">${esc(p.title)}</text>`);
    const sub = [p.subtitle, cut > 0 ? `${cut}/${n} outside` : undefined].filter(Boolean).join(', ');
    if (sub) parts.push(`<text x="${x0 + size / 2}" y="${top + 28}" font-size="10" text-anchor="middle" fill="#555">${esc(sub)}</text>`);
    parts.push(`<rect x="${x0}" y="${y0}" width="${size}" height="${size}" fill="#f7f7f7" stroke="#bbb"/>`);
    if (d) {
      parts.push(
        `<path transform="scale(0.5)" d="${d}" stroke="#1f5fa8" stroke-opacity="0.6" stroke-width="${2 * dot}" stroke-linecap="round" fill="none"/>`,
      );
    }
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
