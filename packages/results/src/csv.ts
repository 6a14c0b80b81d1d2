// CSV cells as every results file writes them (RFC 4180): numbers as JavaScript prints them, maps and lists as JSON, quoted only when needed.

/** One cell: empty for null/undefined; quoted (with `""` for a quote) only when it holds a comma, a quote or a line break. */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One line of cells (without the line break). */
export function csvLine(cells: readonly unknown[]): string {
  return cells.map(csvCell).join(',');
}
