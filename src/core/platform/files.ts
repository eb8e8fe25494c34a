/**
 * Reading a model, tokenizer or fixture named by a string: the Node half. A path (or a `file:` URL)
 * is read with Node's file system; an `http:`/`https:` URL is fetched. Browser builds replace this
 * module with `files.web.ts` (the package's `browser` field; `scripts/browserBuild.ts` for bundles
 * made from the sources), so nothing on the browser path imports `node:*`.
 *
 * @internal
 */
import { readFile } from 'node:fs/promises'

const isWebUrl = (s: string | URL): boolean => /^https?:\/\//i.test(String(s))

/** The bytes a path or URL names. Throws (with the path in the message) when it cannot be read. */
export const readSource = async (source: string | URL): Promise<Uint8Array> => {
  if (isWebUrl(source)) {
    const res = await fetch(source)
    if (!res.ok) throw new Error(`GET ${String(source)} answered ${res.status} ${res.statusText}`)
    return new Uint8Array(await res.arrayBuffer())
  }
  return new Uint8Array(await readFile(source))
}

/** Which platform this build of the module serves (tests check that browser bundles swap it). */
export const PLATFORM: 'node' | 'web' = 'node'
