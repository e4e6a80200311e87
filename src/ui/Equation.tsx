/**
 * Equations typeset by KaTeX, bundled with the app (its CSS and fonts are build assets served from
 * this origin: no CDN). KaTeX writes MathML beside its HTML, so screen readers read the maths.
 * KaTeX is loaded after the first render (see katex-render.ts); until then an equation is an empty
 * placeholder of about its height.
 */
import { useEffect, useId, useMemo, useState, type ReactNode } from 'react';

type Render = (tex: string, displayMode: boolean) => string;

let renderer: Render | null = null;
let loading: Promise<Render> | null = null;

function loadRenderer(): Promise<Render> {
  loading ??= import('./katex-render').then((m) => (renderer = m.renderTex));
  return loading;
}

/** The TeX renderer once KaTeX has loaded (null before). */
function useRenderer(): Render | null {
  const [render, setRender] = useState<Render | null>(() => renderer);
  useEffect(() => {
    if (render) return;
    let live = true;
    loadRenderer().then(
      (r) => live && setRender(() => r),
      (e: unknown) => console.warn('KaTeX failed to load', e),
    );
    return () => {
      live = false;
    };
  }, [render]);
  return render;
}

/** One equation from TeX source: a display equation, or inline. */
export function Equation({ tex, inline = false }: { tex: string; inline?: boolean }) {
  const render = useRenderer();
  const html = useMemo(() => (render ? render(tex, !inline) : null), [render, tex, inline]);
  const className = `equation${inline ? ' equation--inline' : ''}${html === null ? ' equation--pending' : ''}`;
  // KaTeX's output from our own fixed TeX strings: no user input reaches it.
  const props = html === null ? { 'aria-busy': true } : { dangerouslySetInnerHTML: { __html: html } };
  // A display equation scrolls sideways when wider than its panel: focusable, so keys can scroll it.
  return inline ? <span className={className} {...props} /> : <div className={className} tabIndex={0} {...props} />;
}

interface MathNoteProps {
  /** Accessible name of the figure, and its visible heading. */
  title: string;
  /** One or more display equations. */
  tex: string | string[];
  /** One or two sentences in plain language. */
  children: ReactNode;
  /** Marks the note of the option currently chosen (e.g. the sampler). */
  chosen?: boolean;
  className?: string;
}

/** An equation with a short plain-language explanation under it, as a named figure. */
export function MathNote({ title, tex, children, chosen, className }: MathNoteProps) {
  const id = useId();
  const lines = Array.isArray(tex) ? tex : [tex];
  return (
    <figure className={`math-note${chosen ? ' math-note--chosen' : ''}${className ? ` ${className}` : ''}`} aria-labelledby={id}>
      <p className="math-title" id={id}>
        {title}
        {chosen ? <span className="math-chosen"> · chosen</span> : null}
      </p>
      {lines.map((line) => (
        <Equation key={line} tex={line} />
      ))}
      <figcaption>{children}</figcaption>
    </figure>
  );
}
