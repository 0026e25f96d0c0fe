// CSV export of the current filtered list, made in the browser: it walks the cursor pages
// of the same query (100 rows a page) up to a cap said on screen, with a progress bar.

import { useState } from 'preact/hooks';
import { get, type Page } from '../api';
import { asApiError } from '../load';
import { Problem } from './Problem';
import type { ApiError } from '../api';

export const CSV_ROW_CAP = 5000;
const PAGE_SIZE = 100;

/** One CSV field: quoted when needed; a leading = + - @ is defused for spreadsheets. */
export function csvField(raw: unknown): string {
  let text = raw === null || raw === undefined ? '' : String(raw);
  if (/^[=+\-@\t\r]/.test(text) && !/^-?\d+(\.\d+)?$/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

export function CsvExport<T>({
  what,
  route,
  query,
  header,
  row,
}: {
  what: string;
  route: string;
  query: Record<string, string | undefined>;
  header: string[];
  row: (item: T) => unknown[];
}) {
  const [fetched, setFetched] = useState<number | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | undefined>(undefined);

  async function run() {
    setError(undefined);
    setDone(null);
    setFetched(0);
    const rows: unknown[][] = [];
    let cursor: string | undefined;
    let more = false;
    try {
      do {
        const page = await get<Page<T>>(route, { ...query, limit: PAGE_SIZE, cursor });
        for (const item of page.items) rows.push(row(item));
        setFetched(rows.length);
        cursor = page.next_cursor ?? undefined;
        more = cursor !== undefined;
      } while (more && rows.length < CSV_ROW_CAP);
    } catch (e) {
      setError(asApiError(e));
      setFetched(null);
      return;
    }
    const kept = rows.slice(0, CSV_ROW_CAP);
    const blob = new Blob([toCsv(header, kept)], { type: 'text/csv;charset=utf-8' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `${what}-${new Date().toISOString().slice(0, 10)}.csv`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    setFetched(null);
    setDone(
      more || rows.length > CSV_ROW_CAP
        ? `Exported the first ${kept.length} ${what}: the list has more than the cap of ${CSV_ROW_CAP} rows. Narrow the filters to export the rest.`
        : `Exported ${kept.length} ${what}.`,
    );
  }

  return (
    <div class="export">
      <button type="button" onClick={run} disabled={fetched !== null}>
        Export CSV
      </button>
      <span class="hint">At most {CSV_ROW_CAP.toLocaleString('en-GB')} rows, with the filters above.</span>
      {fetched !== null && (
        <div role="status" class="progress">
          <label>
            Fetching {what}: {fetched} rows
            <progress max={CSV_ROW_CAP} value={fetched} />
          </label>
        </div>
      )}
      {done && (
        <p role="status" class="status">
          {done}
        </p>
      )}
      <Problem error={error} onRetry={run} />
    </div>
  );
}
