/**
 * A very small SVG plotting kit for the report page: a panel with linear axes, ticks, grid,
 * labels and a legend, and the marks the report draws (lines, bands, points with interval bars,
 * histogram steps). Output is a self-contained `<svg>` string: no scripts, no fonts, no network.
 */

/** Okabe & Ito's colour-blind-safe palette (policies in report order). */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'] as const;
export const colorOf = (i: number): string => PALETTE[i % PALETTE.length]!;

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const fmtNum = (x: number): string => (Number.isInteger(x) ? String(x) : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(1) : x.toPrecision(2));
const r2 = (x: number): string => (Math.round(x * 100) / 100).toString();

/** About `count` round tick values covering [lo, hi] (1, 2, 5 x 10^k steps). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  return out;
}

/** [lo, hi] padded a little and widened to include `include` values (e.g. 0). */
export function extent(values: readonly number[], include: readonly number[] = [], pad = 0.05): [number, number] {
  const finite = [...values, ...include].filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
  const p = (hi - lo) * pad;
  return [include.includes(lo) ? lo : lo - p, include.includes(hi) ? hi : hi + p];
}

export interface PanelOptions {
  width?: number;
  height?: number;
  title?: string;
  xLabel: string;
  yLabel: string;
  x: [number, number];
  y: [number, number];
  /** Category names for the y axis instead of numbers (rows top to bottom). */
  yCategories?: readonly string[];
}

/** One chart: scales, axes and accumulated marks. */
export class Panel {
  readonly width: number;
  readonly height: number;
  private readonly m = { top: 30, right: 16, bottom: 44, left: 64 };
  private readonly marks: string[] = [];
  private readonly legendItems: Array<{ label: string; color: string }> = [];

  constructor(private readonly o: PanelOptions) {
    this.width = o.width ?? 480;
    this.height = o.height ?? 300;
    if (o.yCategories) this.m.left = Math.min(200, 16 + 7 * Math.max(...o.yCategories.map((c) => c.length)));
  }

  sx(x: number): number {
    const [a, b] = this.o.x;
    return this.m.left + ((x - a) / (b - a)) * (this.width - this.m.left - this.m.right);
  }

  sy(y: number): number {
    const [a, b] = this.o.y;
    return this.height - this.m.bottom - ((y - a) / (b - a)) * (this.height - this.m.top - this.m.bottom);
  }

  /** Row centre of category i (yCategories panels: rows 0..k-1 top to bottom). */
  rowY(i: number): number {
    const k = this.o.yCategories?.length ?? 1;
    const top = this.m.top;
    const h = this.height - this.m.top - this.m.bottom;
    return top + ((i + 0.5) * h) / k;
  }

  line(points: ReadonlyArray<[number, number]>, color: string, opts: { dash?: boolean; width?: number } = {}): this {
    const pts = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (pts.length === 0) return this;
    const d = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${r2(this.sx(x))},${r2(this.sy(y))}`).join('');
    this.marks.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="${opts.width ?? 2}"${opts.dash ? ' stroke-dasharray="5,4"' : ''}/>`);
    return this;
  }

  /** A filled band between lower and upper at the same xs. */
  band(xs: readonly number[], lower: readonly number[], upper: readonly number[], color: string): this {
    const idx = xs.map((_, i) => i).filter((i) => Number.isFinite(lower[i]!) && Number.isFinite(upper[i]!));
    if (idx.length < 2) return this;
    const top = idx.map((i) => `${r2(this.sx(xs[i]!))},${r2(this.sy(upper[i]!))}`);
    const bottom = idx.reverse().map((i) => `${r2(this.sx(xs[i]!))},${r2(this.sy(lower[i]!))}`);
    this.marks.push(`<polygon points="${[...top, ...bottom].join(' ')}" fill="${color}" fill-opacity="0.18" stroke="none"/>`);
    return this;
  }

  /** A horizontal interval bar with its point, on category row `row` (offset in px within the row). */
  interval(row: number, point: number, low: number, high: number, color: string, offset = 0): this {
    const y = this.rowY(row) + offset;
    if (Number.isFinite(low) && Number.isFinite(high)) {
      this.marks.push(`<rect x="${r2(this.sx(low))}" y="${r2(y - 5)}" width="${r2(Math.max(1, this.sx(high) - this.sx(low)))}" height="10" fill="${color}" fill-opacity="0.35"/>`);
    }
    if (Number.isFinite(point)) this.marks.push(`<line x1="${r2(this.sx(point))}" x2="${r2(this.sx(point))}" y1="${r2(y - 7)}" y2="${r2(y + 7)}" stroke="${color}" stroke-width="2.5"/>`);
    return this;
  }

  /** A histogram as a step outline: counts per bin [edges[i], edges[i+1]). */
  steps(edges: readonly number[], counts: readonly number[], color: string): this {
    const pts: Array<[number, number]> = [[edges[0]!, 0]];
    counts.forEach((c, i) => pts.push([edges[i]!, c], [edges[i + 1]!, c]));
    pts.push([edges.at(-1)!, 0]);
    return this.line(pts, color, { width: 1.6 });
  }

  /** A vertical reference line with a small label. */
  vrule(x: number, label: string): this {
    const X = r2(this.sx(x));
    this.marks.push(`<line x1="${X}" x2="${X}" y1="${this.m.top}" y2="${this.height - this.m.bottom}" stroke="#888" stroke-dasharray="3,3"/>`);
    this.marks.push(`<text x="${r2(this.sx(x) - 4)}" y="${this.height - this.m.bottom - 5}" font-size="10" text-anchor="end" fill="#666">${escapeXml(label)}</text>`);
    return this;
  }

  legend(label: string, color: string): this {
    this.legendItems.push({ label, color });
    return this;
  }

  private axes(): string {
    const { width: W, height: H, m, o } = this;
    const out: string[] = [];
    const xTicks = niceTicks(o.x[0], o.x[1]);
    for (const t of xTicks) {
      const X = r2(this.sx(t));
      out.push(`<line x1="${X}" x2="${X}" y1="${m.top}" y2="${H - m.bottom}" stroke="#eee"/>`);
      out.push(`<text x="${X}" y="${H - m.bottom + 14}" font-size="11" text-anchor="middle">${fmtNum(t)}</text>`);
    }
    if (o.yCategories) {
      o.yCategories.forEach((c, i) => out.push(`<text x="${m.left - 6}" y="${r2(this.rowY(i) + 4)}" font-size="11" text-anchor="end">${escapeXml(c)}</text>`));
    } else {
      for (const t of niceTicks(o.y[0], o.y[1])) {
        const Y = r2(this.sy(t));
        out.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${Y}" y2="${Y}" stroke="#eee"/>`);
        out.push(`<text x="${m.left - 6}" y="${r2(this.sy(t) + 4)}" font-size="11" text-anchor="end">${fmtNum(t)}</text>`);
      }
    }
    out.push(`<rect x="${m.left}" y="${m.top}" width="${W - m.left - m.right}" height="${H - m.top - m.bottom}" fill="none" stroke="#444"/>`);
    out.push(`<text x="${r2((m.left + W - m.right) / 2)}" y="${H - 8}" font-size="12" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
    if (!o.yCategories) {
      out.push(`<text transform="translate(14,${r2((m.top + H - m.bottom) / 2)}) rotate(-90)" font-size="12" text-anchor="middle">${escapeXml(o.yLabel)}</text>`);
    }
    if (o.title) out.push(`<text x="${m.left}" y="${m.top - 12}" font-size="13" font-weight="bold">${escapeXml(o.title)}</text>`);
    return out.join('');
  }

  private legendSvg(): string {
    const x = this.width - this.m.right - 8;
    return this.legendItems
      .map((it, i) => {
        const y = this.m.top + 14 + 15 * i;
        return `<rect x="${x - 10}" y="${y - 8}" width="10" height="10" fill="${it.color}"/><text x="${x - 14}" y="${y + 1}" font-size="11" text-anchor="end">${escapeXml(it.label)}</text>`;
      })
      .join('');
  }

  /** The chart; `label` becomes its accessible name. */
  svg(label: string): string {
    return (
      `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${this.width} ${this.height}" width="${this.width}" height="${this.height}" role="img" aria-label="${escapeXml(label)}" font-family="sans-serif">` +
      `<rect width="100%" height="100%" fill="#fff"/>${this.axes()}${this.marks.join('')}${this.legendSvg()}</svg>`
    );
  }
}
