/**
 * The URL keys of a page section that keeps its own settings (the 2D lab's `lab.*`, Edit's
 * `edit.*`; see SECTION_PREFIXES in ./share-params.ts): read them from a query, and write them back
 * without touching any other key, so the section and the rest of the page share one address bar.
 */
/** Where the page reads and writes the address (the window's, or a test's). */
export interface AddressBar {
  location: Pick<Location, 'pathname' | 'search' | 'hash'>;
  history: Pick<History, 'replaceState' | 'state'>;
}

/** The section's keys in `search`, without the prefix: `?lab.data=moons` → { data: 'moons' }. */
export function readSection(search: string, prefix: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(search)) {
    if (key.startsWith(prefix) && !out.has(key.slice(prefix.length))) out.set(key.slice(prefix.length), value);
  }
  return out;
}

/** `search` with the section's keys replaced by `entries` (prefix added; pass only what differs from the defaults). */
export function withSection(search: string, prefix: string, entries: Iterable<[string, string]>): string {
  const params = new URLSearchParams(search);
  for (const key of [...params.keys()]) if (key.startsWith(prefix)) params.delete(key);
  for (const [key, value] of entries) params.set(`${prefix}${key}`, value);
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Writes the section's keys into the address bar (history.replaceState; no new history entry). */
export function writeSection(bar: AddressBar, prefix: string, entries: Iterable<[string, string]>): void {
  const { pathname, search, hash } = bar.location;
  const query = withSection(search, prefix, entries);
  if (query !== search) bar.history.replaceState(bar.history.state, '', `${pathname}${query}${hash}`);
}
