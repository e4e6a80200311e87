/**
 * Loads the MNIST binary over HTTP (page or Web Worker). Vite serves public/ at the site root,
 * so the file lives at `${BASE_URL}data/mnist.bin`; npm install builds it.
 */
import { parseMnist, type MnistDataset } from './mnist';

/**
 * The default URL: Vite's BASE_URL (when this code is bundled by Vite) joined with
 * data/mnist.bin, else "/data/mnist.bin". With a relative base ("./") a Worker would resolve it
 * against the worker script's URL, so in that setup pass an absolute URL from the page instead.
 */
export function defaultMnistUrl(): string {
  // import.meta.env exists only under Vite (page and worker bundles); guard for plain ESM.
  const base: string = import.meta.env?.BASE_URL ?? '/';
  return `${base.endsWith('/') ? base : `${base}/`}data/mnist.bin`;
}

const HINT = 'run npm install (it builds the file) or node scripts/build-mnist.mjs';

/**
 * Fetches and parses the MNIST binary. Errors say what went wrong and how to fix it: a failed
 * request, a missing file (including a dev server answering with its HTML page), or a file
 * that does not parse.
 */
export async function loadMnistBrowser(
  url: string = defaultMnistUrl(),
  init?: RequestInit,
): Promise<MnistDataset> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`MNIST data could not be fetched from ${url} (${reason}): ${HINT}`, {
      cause: error,
    });
  }
  if (!response.ok) {
    throw new Error(`MNIST data missing at ${url} (HTTP ${response.status}): ${HINT}`);
  }
  // Vite's dev server answers unknown paths with index.html and status 200.
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('text/html')) {
    throw new Error(`MNIST data missing at ${url} (the server sent an HTML page): ${HINT}`);
  }
  const buffer = await response.arrayBuffer();
  try {
    return parseMnist(buffer);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `MNIST data at ${url} is malformed (${reason}): rebuild it with node scripts/build-mnist.mjs --force`,
      { cause: error },
    );
  }
}
