// An in-app link: a real <a href> (opens in a new tab, copies), navigating without a reload.

import type { ComponentChildren } from 'preact';
import { onLinkClick } from '../router';

export function Link({
  href,
  children,
  current,
  class: className,
}: {
  href: string;
  children: ComponentChildren;
  current?: boolean;
  class?: string;
}) {
  return (
    <a href={href} onClick={onLinkClick} aria-current={current ? 'page' : undefined} class={className}>
      {children}
    </a>
  );
}
