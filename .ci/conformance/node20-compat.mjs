// Credit: written by a colleague for the team's Node 20 machines (the
// node20-conformance notes), copied here because CI has only the clean
// clone; .ci/conformance.sh preloads it.
// Node 20 compatibility preload for @modelcontextprotocol/conformance.
//
// The conformance CLI's bundle does `import { globSync } from "fs"`, an export
// that only exists on Node >= 22 (it is used solely by the `tier-check`
// subcommand). On Node 20 the whole CLI therefore fails to load with
// "The requested module 'fs' does not provide an export named 'globSync'".
//
// Usage: node --import ./node20-compat.mjs node_modules/@modelcontextprotocol/conformance/dist/index.js ...
//
// On Node >= 22 this file does nothing. On Node 20 it registers a resolve hook
// that hands the conformance package (and only it) an `fs` module that is the
// real `node:fs` plus a small `globSync` fallback. Nothing in the conformance
// package itself is modified.
import fs from 'node:fs';
import { register } from 'node:module';

if (typeof fs.globSync !== 'function') {
  register('./node20-compat-hooks.mjs', import.meta.url);
}
