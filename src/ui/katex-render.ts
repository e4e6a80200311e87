/**
 * KaTeX and its stylesheet, loaded on demand as their own chunk (about 300 kB of script that the
 * page's first render does not wait for). The fonts are build assets of this origin: no CDN.
 */
import katex from 'katex';
import 'katex/dist/katex.min.css';

/** TeX to HTML with MathML beside it (screen readers read the MathML); errors render in red, never throw. */
export function renderTex(tex: string, displayMode: boolean): string {
  return katex.renderToString(tex, { displayMode, output: 'htmlAndMathml', throwOnError: false, strict: 'ignore' });
}
