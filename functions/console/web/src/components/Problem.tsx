// An API error as its problem title and detail; a 503 (or no connection) offers "Try again".

import type { ComponentChildren } from 'preact';
import type { ApiError } from '../api';

export function Problem({ error, onRetry }: { error: ApiError | undefined; onRetry?: () => void }) {
  if (!error) return null;
  return (
    <div class="problem" role="alert">
      <p>
        <strong>{error.title}</strong>
        {error.detail ? ` — ${error.detail}` : ''}
      </p>
      {error.errors.length > 0 && (
        <ul>
          {error.errors.map((e, i) => (
            <li key={i}>
              {e.field}: {e.message}
            </li>
          ))}
        </ul>
      )}
      {error.retryable && onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** A polite status line (loading, saved, results): announced, never stealing focus. */
export function Status({ children }: { children: ComponentChildren }) {
  return (
    <p class="status" role="status">
      {children}
    </p>
  );
}
