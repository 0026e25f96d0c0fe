// The provider's return to /console/callback: the code leaves the address bar at once, the
// state must be the one this tab remembered, and the code is exchanged for our token.

import { useEffect, useState } from 'preact/hooks';
import { ApiError, get } from '../api';
import { Problem, Status } from '../components/Problem';
import { asApiError } from '../load';
import { navigate } from '../router';
import { CALLBACK_PATH, signedIn, takeSignIn } from '../session';

interface TokenResponse {
  access_token: string;
}

export function Callback() {
  const [error, setError] = useState<ApiError | undefined>(undefined);
  useEffect(() => {
    const params = new URLSearchParams(location.search);
    const code = params.get('code');
    const state = params.get('state');
    const refused = params.get('error');
    history.replaceState(null, '', CALLBACK_PATH);
    const remembered = takeSignIn();
    if (refused) {
      setError(new ApiError(400, 'Sign-in was not completed', `The sign-in provider answered "${refused}".`));
    } else if (!code || !state) {
      setError(new ApiError(400, 'Nothing to complete', 'This page is where the sign-in provider sends you back.'));
    } else if (remembered.state !== state) {
      setError(
        new ApiError(400, 'Sign-in could not be verified', 'It was not started from this tab, or it was already used. Start again.'),
      );
    } else {
      get<TokenResponse>('/auth/google/callback', { code, state }).then(
        (token) => {
          signedIn(token.access_token);
          navigate(remembered.returnTo, { replace: true });
        },
        (e: unknown) => setError(asApiError(e)),
      );
    }
  }, []);
  return (
    <main class="centered" id="main">
      <h1>Signing in</h1>
      {!error && <Status>Completing the sign-in…</Status>}
      <Problem error={error} />
      {error && (
        <p>
          <a href="/console">Back to sign-in</a>
        </p>
      )}
    </main>
  );
}
