// Credit: written by a colleague for the team's Node 20 machines (the
// node20-conformance notes), copied here because CI has only the clean
// clone; .ci/conformance.sh preloads it.
// Module resolve hook used by node20-compat.mjs (see there).
const SHIM_URL = new URL('./fs-with-globsync.mjs', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if (
    (specifier === 'fs' || specifier === 'node:fs') &&
    context.parentURL &&
    context.parentURL !== SHIM_URL &&
    context.parentURL.includes('/@modelcontextprotocol/conformance/')
  ) {
    return { url: SHIM_URL, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
