// A table that scrolls sideways on a narrow screen (360 px) without the page doing so; the
// scrolling region is focusable and named, so it can be scrolled from the keyboard.

import type { ComponentChildren } from 'preact';

export function Table({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-scroll" tabIndex={0} role="region" aria-label={label}>
      <table>{children}</table>
    </div>
  );
}
