// A signed-in customer who is not an admin: no data, only a way out.

import type { Me } from '../api';
import { signOut } from '../session';

export function AdminsOnly({ me }: { me: Me }) {
  return (
    <main class="centered" id="main">
      <h1>Admins only</h1>
      <p>
        You are signed in as <strong>{me.email}</strong>, which is not an admin account. The back office is for shop
        staff.
      </p>
      <button type="button" onClick={() => signOut()}>
        Sign out
      </button>
    </main>
  );
}
