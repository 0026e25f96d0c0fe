// The frame of every signed-in screen: skip link, header with the main navigation and the
// signed-in admin, and the <main> landmark.

import type { ComponentChildren } from 'preact';
import type { Me } from '../api';
import { signOut } from '../session';
import { Link } from './Link';

const NAV: [string, string][] = [
  ['/console/orders', 'Orders'],
  ['/console/payments', 'Payments'],
  ['/console/products', 'Products'],
  ['/console/categories', 'Categories'],
  ['/console/notifications', 'Notifications'],
  ['/console/customers', 'Customers'],
  ['/console/history', 'History'],
];

function section(path: string): string {
  if (path === '/console') return '/console/orders';
  return NAV.find(([href]) => path === href || path.startsWith(`${href}/`))?.[0] ?? '';
}

export function Layout({ me, path, children }: { me: Me; path: string; children: ComponentChildren }) {
  const active = section(path);
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Back office</span>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([href, label]) => (
              <li key={href}>
                <Link href={href} current={active === href}>
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span>{me.email}</span>
          <button type="button" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
