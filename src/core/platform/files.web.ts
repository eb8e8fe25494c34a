/**
 * Reading a model, tokenizer or fixture named by a string: the browser half (see `files.ts`). The
 * string is a URL, resolved against the page (or worker) address, and fetched.
 *
 * @internal
 */

const base = (): string | undefined => (globalThis as { location?: { href?: string } }).location?.href

/** The bytes a URL names. Throws (with the URL in the message) when the fetch fails. */
export const readSource = async (source: string | URL): Promise<Uint8Array> => {
  const url = new URL(String(source), base())
  const res = await fetch(url)
  if (!res.ok) throw new Error(`GET ${url.href} answered ${res.status} ${res.statusText}`)
  return new Uint8Array(await res.arrayBuffer())
}

/** Which platform this build of the module serves (tests check that browser bundles swap it). */
export const PLATFORM: 'node' | 'web' = 'web'
