/**
 * A small SVG line plot on log-log axes, written by hand: the scale part draws each cost as a ratio to its
 * first count against the count itself, so that a line below the work's diagonal grows slower than the work.
 */

export interface PlotLine {
  readonly name: string;
  /** [x, y] pairs, both positive; ascending x. */
  readonly points: readonly (readonly [number, number])[];
  /** Drawn dashed, as a reference line (the work) rather than a measurement. */
  readonly dashed?: boolean;
}

export interface LogLogPlot {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly lines: readonly PlotLine[];
}

const width = 760;
const height = 460;
const margin = { left: 64, right: 230, top: 40, bottom: 52 };
/** Colour-blind-safe (Okabe–Ito), the work's reference line in grey. */
const palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c] ?? c);
}

/** Powers of ten from below the smallest value to above the largest: the axis's decades. */
export function decades(values: readonly number[]): number[] {
  const positive = values.filter((value) => value > 0 && Number.isFinite(value));
  if (positive.length === 0) return [1, 10];
  const low = Math.floor(Math.log10(Math.min(...positive)));
  const high = Math.max(low + 1, Math.ceil(Math.log10(Math.max(...positive))));
  return Array.from({ length: high - low + 1 }, (_, index) => 10 ** (low + index));
}

function tickLabel(value: number): string {
  return value >= 1 ? value.toLocaleString("en-US") : String(Number(value.toPrecision(1)));
}

export function logLogSvg(plot: LogLogPlot): string {
  const drawn = plot.lines
    .map((line) => ({ ...line, points: line.points.filter(([x, y]) => x > 0 && y > 0) }))
    .filter((line) => line.points.length > 0);
  const xTicks = decades(drawn.flatMap((line) => line.points.map(([x]) => x)));
  const yTicks = decades(drawn.flatMap((line) => line.points.map(([, y]) => y)));
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const scale = (ticks: number[], value: number) => {
    const low = Math.log10(ticks[0] as number);
    const high = Math.log10(ticks[ticks.length - 1] as number);
    return (Math.log10(value) - low) / (high - low);
  };
  const x = (value: number) => (margin.left + scale(xTicks, value) * plotWidth).toFixed(1);
  const y = (value: number) => (margin.top + (1 - scale(yTicks, value)) * plotHeight).toFixed(1);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12" role="img">`,
    // The accessible name, for screen readers and for pages that embed the plot.
    `<title>${escapeXml(plot.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${margin.left}" y="22" font-size="15" font-weight="bold">${escapeXml(plot.title)}</text>`,
  ];
  for (const tick of xTicks) {
    parts.push(
      `<line x1="${x(tick)}" y1="${margin.top}" x2="${x(tick)}" y2="${height - margin.bottom}" stroke="#dddddd"/>`,
      `<text x="${x(tick)}" y="${height - margin.bottom + 16}" text-anchor="middle">${tickLabel(tick)}</text>`,
    );
  }
  for (const tick of yTicks) {
    parts.push(
      `<line x1="${margin.left}" y1="${y(tick)}" x2="${width - margin.right}" y2="${y(tick)}" stroke="#dddddd"/>`,
      `<text x="${margin.left - 6}" y="${y(tick)}" dy="4" text-anchor="end">${tickLabel(tick)}</text>`,
    );
  }
  parts.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#888888"/>`,
    `<text x="${margin.left + plotWidth / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(plot.xLabel)}</text>`,
    `<text transform="translate(16 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(plot.yLabel)}</text>`,
  );
  let colour = 0;
  drawn.forEach((line, index) => {
    const stroke = line.dashed ? "#777777" : (palette[colour++ % palette.length] as string);
    const path = line.points.map(([px, py]) => `${x(px)},${y(py)}`).join(" ");
    const dash = line.dashed ? ' stroke-dasharray="6 4"' : "";
    parts.push(`<polyline points="${path}" fill="none" stroke="${stroke}" stroke-width="2"${dash}/>`);
    for (const [px, py] of line.points) {
      parts.push(`<circle cx="${x(px)}" cy="${y(py)}" r="3" fill="${stroke}"/>`);
    }
    const legendY = margin.top + 8 + index * 20;
    const legendX = width - margin.right + 14;
    parts.push(
      `<line x1="${legendX}" y1="${legendY}" x2="${legendX + 22}" y2="${legendY}" stroke="${stroke}" stroke-width="2"${dash}/>`,
      `<text x="${legendX + 28}" y="${legendY}" dy="4">${escapeXml(line.name)}</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
