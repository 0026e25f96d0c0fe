// Cursor paging: the API hands out opaque `next_cursor`s, so "previous" is a stack of the
// cursors that led here.

import { useState } from 'preact/hooks';

export interface Paging {
  cursor: string | undefined;
  page: number;
  next: (cursor: string) => void;
  previous: () => void;
  first: () => void;
}

export function usePaging(): Paging {
  const [stack, setStack] = useState<(string | undefined)[]>([undefined]);
  return {
    cursor: stack[stack.length - 1],
    page: stack.length,
    next: (cursor) => setStack((s) => [...s, cursor]),
    previous: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
    first: () => setStack([undefined]),
  };
}

export function Pager({ paging, nextCursor, label }: { paging: Paging; nextCursor: string | null | undefined; label: string }) {
  return (
    <nav class="pager" aria-label={`${label} pages`}>
      <button type="button" disabled={paging.page === 1} onClick={paging.previous}>
        Previous page
      </button>
      <span>Page {paging.page}</span>
      <button type="button" disabled={!nextCursor} onClick={() => nextCursor && paging.next(nextCursor)}>
        Next page
      </button>
    </nav>
  );
}
