import type { ReactNode } from 'react';

/** Advanced settings folded under "More settings", each with a sensible default; open it to change them. */
export function MoreSettings({ children, label = 'More settings' }: { children: ReactNode; label?: string }) {
  return (
    <details className="more-settings">
      <summary>{label}</summary>
      {children}
    </details>
  );
}
