// Percent-format cells: a line starting with "# %%" begins a new cell; code before the
// first marker is a cell too. Offsets are character offsets into the document text.

export interface Cell {
  from: number; // start of the cell (its marker line, if any)
  to: number; // end of the cell (exclusive): the start of the next marker line
  code: string; // the cell's code, without its marker line
  markdown: boolean; // a "# %% [markdown]" cell: prose in comments, nothing to run
}

const MARKER = /^#\s*%%/;

export function splitCells(text: string): Cell[] {
  const starts = [0];
  for (let pos = 0; ; ) {
    const nl = text.indexOf("\n", pos);
    const line = text.slice(pos, nl === -1 ? text.length : nl);
    if (pos > 0 && MARKER.test(line)) starts.push(pos);
    if (nl === -1) break;
    pos = nl + 1;
  }
  return starts.map((from, i) => {
    const to = i + 1 < starts.length ? starts[i + 1] : text.length;
    let body = from;
    let markdown = false;
    if (MARKER.test(text.slice(from, to))) {
      const nl = text.indexOf("\n", from);
      body = nl === -1 || nl >= to ? to : nl + 1;
      markdown = /\[\s*markdown\s*\]/i.test(text.slice(from, body));
    }
    return { from, to, code: text.slice(body, to), markdown };
  });
}

/** The cell holding the character offset `at` (at the very end: the last cell). */
export function cellAt(text: string, at: number): Cell {
  const cells = splitCells(text);
  return cells.find((c) => at >= c.from && at < c.to) ?? cells[cells.length - 1];
}

export function isBlank(code: string): boolean {
  return code.trim() === "";
}
