import { useEffect, useRef, useState } from 'react';
import { shareUrl } from '../state/share-link';
import { useApp, useEngine } from './context';
import './share.css';

type CopyState = 'idle' | 'copied' | 'failed';

/** How long "Link copied" stays. */
const COPIED_MS = 4000;

/** Copies through a hidden text box, for browsers without the async clipboard (or without permission). */
function copyByCommand(text: string): boolean {
  const box = document.createElement('textarea');
  box.value = text;
  box.setAttribute('readonly', '');
  box.style.position = 'fixed';
  box.style.opacity = '0';
  document.body.appendChild(box);
  box.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  } finally {
    box.remove();
  }
}

/** "Copy link": the address that reproduces every setting on the page, to the clipboard. */
export function CopyLink() {
  const client = useEngine();
  const [state, setState] = useState<CopyState>('idle');
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  const copy = async () => {
    const url = shareUrl(client.store.getState(), window.location);
    let ok: boolean;
    try {
      await navigator.clipboard.writeText(url);
      ok = true;
    } catch {
      ok = copyByCommand(url);
    }
    setState(ok ? 'copied' : 'failed');
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => setState('idle'), COPIED_MS);
  };

  return (
    <div className="copy-link">
      <button type="button" onClick={() => void copy()}>
        Copy link
      </button>
      <span role="status" aria-label="Copy link status" className="copy-link__status">
        {state === 'copied' ? 'Link copied' : state === 'failed' ? 'Could not copy: the address bar has the link.' : ''}
      </span>
    </div>
  );
}

/** Notes about the page's link: settings it clamped or ignored, fresh weights instead of the pretrained model. */
export function LinkNotes() {
  const client = useEngine();
  const notes = useApp((s) => s.linkNotes);
  if (notes.length === 0) return null;
  return (
    <div className="backend-note link-note" role="status" aria-label="Link note">
      {notes.map((n) => (
        <p key={n}>{n}</p>
      ))}
      <button type="button" className="link-note__dismiss" aria-label="Dismiss link notes" onClick={() => client.store.setState({ linkNotes: [] })}>
        Dismiss
      </button>
    </div>
  );
}
