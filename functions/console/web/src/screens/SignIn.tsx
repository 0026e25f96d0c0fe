// Sign-in: asks the API for the provider's URL with the console's own callback as the
// redirect, remembers `state` in sessionStorage, and leaves for the provider.

import { get } from '../api';
import { Problem } from '../components/Problem';
import { useAction } from '../load';
import { CALLBACK_PATH, rememberSignIn } from '../session';

interface LoginUrl {
  authorization_url: string;
  state: string;
}

export function SignIn({ notice }: { notice: string | null }) {
  const action = useAction();
  async function start() {
    const redirect = `${location.origin}${CALLBACK_PATH}`;
    const login = await action.run(() => get<LoginUrl>('/auth/google/login', { redirect_uri: redirect }));
    if (!login) return;
    rememberSignIn(login.state, location.pathname + location.search);
    location.assign(login.authorization_url);
  }
  return (
    <main class="centered" id="main">
      <h1>Back office</h1>
      <p>The shop's back office, for staff with an admin account.</p>
      {notice && (
        <p class="status" role="status">
          {notice}
        </p>
      )}
      <button type="button" class="primary" disabled={action.busy} onClick={start}>
        Sign in with Google
      </button>
      <Problem error={action.error} onRetry={start} />
    </main>
  );
}
