/**
 * Tables for people (cli-table3, loaded on first use).
 */
export interface TableOptions {
  head: string[];
  rows: Array<Array<string | number>>;
  color: boolean;
}

/** Renders rows as a table with a header. */
export async function renderTable({ head, rows, color }: TableOptions): Promise<string> {
  const { default: Table } = await import('cli-table3');
  const table = new Table({
    head,
    style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] },
    wordWrap: true,
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of rows) table.push(row.map(String));
  return table.toString();
}
