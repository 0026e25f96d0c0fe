// The signed-in session. The access token lives in memory and is copied to sessionStorage
// so that a reload of this tab keeps it (never localStorage: it dies with the tab; there is
// no refresh token). The sign-in `state` is kept in sessionStorage between the redirect to
// the provider and the return to /console/callback, and checked there.

const TOKEN_KEY = 'console.token';
const STATE_KEY = 'console.sign-in-state';
const RETURN_KEY = 'console.return-to';

export const CALLBACK_PATH = '/console/callback';

type Listener = () => void;
const listeners = new Set<Listener>();

function read(key: string): string | null {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string | null): void {
  try {
    if (value === null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, value);
  } catch {
    // Storage refused (private mode quota): the session then lasts until a reload.
  }
}

let token: string | null = read(TOKEN_KEY);
/** Why the last session ended, shown on the sign-in page. */
let notice: string | null = null;

export function currentToken(): string | null {
  return token;
}

export function sessionNotice(): string | null {
  return notice;
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function changed(): void {
  for (const listener of listeners) listener();
}

export function signedIn(accessToken: string): void {
  token = accessToken;
  notice = null;
  write(TOKEN_KEY, accessToken);
  changed();
}

/** Ends the session (sign-out, or a 401 from the API: `why` says which). */
export function signOut(why: string | null = null): void {
  token = null;
  notice = why;
  write(TOKEN_KEY, null);
  changed();
}

/** Remembers the sign-in attempt before leaving for the provider. */
export function rememberSignIn(state: string, returnTo: string): void {
  write(STATE_KEY, state);
  write(RETURN_KEY, returnTo);
}

/** The remembered attempt, forgotten as it is read (a state is good for one return). */
export function takeSignIn(): { state: string | null; returnTo: string } {
  const state = read(STATE_KEY);
  const returnTo = read(RETURN_KEY);
  write(STATE_KEY, null);
  write(RETURN_KEY, null);
  const safe = returnTo && returnTo.startsWith('/console') && !returnTo.startsWith(CALLBACK_PATH);
  return { state, returnTo: safe ? returnTo : '/console' };
}
