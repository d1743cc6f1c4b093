/**
 * The report as one self-contained HTML page: the Markdown report's text and tables (converted
 * here, so the numbers are written once) followed by the SVG figures. No scripts, no external
 * stylesheets, fonts or images: it opens from file:// with no network.
 */
import { escapeXml } from './svg.js';

/** Inline Markdown of the report's own text: **bold** and `code`. */
function inline(s: string): string {
  return escapeXml(s)
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/`([^`]+)`/g, '<code>$1</code>');
}

function tableHtml(rows: string[]): string {
  const cells = (r: string) => r.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
  const [head, align, ...body] = rows;
  const right = cells(align!).map((a) => a.endsWith(':'));
  const td = (tag: string, c: string, i: number) => `<${tag}${right[i] ? ' class="num"' : ''}>${inline(c)}</${tag}>`;
  return (
    `<table><thead><tr>${cells(head!).map((c, i) => td('th', c, i)).join('')}</tr></thead>` +
    `<tbody>${body.map((r) => `<tr>${cells(r).map((c, i) => td('td', c, i)).join('')}</tr>`).join('')}</tbody></table>`
  );
}

/** The subset of Markdown the report writes: headings, paragraphs, pipe tables. */
export function markdownToHtml(md: string): string {
  const out: string[] = [];
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const h = /^(#{1,3}) (.*)$/.exec(line);
    if (h) out.push(`<h${h[1]!.length}>${inline(h[2]!)}</h${h[1]!.length}>`);
    else if (line.startsWith('|')) {
      const rows: string[] = [];
      while (i < lines.length && lines[i]!.startsWith('|')) rows.push(lines[i++]!);
      i--;
      out.push(tableHtml(rows));
    } else if (line.trim() !== '') out.push(`<p>${inline(line)}</p>`);
  }
  return out.join('\n');
}

export interface FigureSection {
  title: string;
  /** One line under the title: what the figure shows. */
  caption: string;
  svgs: string[];
}

const STYLE = `body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}th,td{border:1px solid #ccc;padding:4px 8px}th{background:#f4f4f4}
td.num,th.num{text-align:right}code{background:#f4f4f4;padding:0 3px}.figs{display:flex;flex-wrap:wrap;gap:12px}
p{line-height:1.4}.caption{color:#555;font-size:13px}`;

/** The whole page. */
export function reportHtml(markdown: string, figures: readonly FigureSection[]): string {
  const figs = figures
    .filter((f) => f.svgs.length > 0)
    .map((f) => `<h2>${escapeXml(f.title)}</h2>\n<p class="caption">${escapeXml(f.caption)}</p>\n<div class="figs">${f.svgs.join('\n')}</div>`)
    .join('\n');
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>ofql-eval report</title><style>${STYLE}</style></head>\n<body>\n${markdownToHtml(markdown)}\n${figs}\n</body></html>\n`;
}
