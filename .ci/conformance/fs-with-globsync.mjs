// Credit: written by a colleague for the team's Node 20 machines (the
// node20-conformance notes), copied here because CI has only the clean
// clone; .ci/conformance.sh preloads it.
// `node:fs` plus a minimal `globSync(pattern, { cwd })` for Node 20.
// Supports `**`, `*` and `?` in POSIX-style patterns, which is all the
// conformance CLI needs (it only globs "**/checks.json" in tier-check).
import fs from 'node:fs';
import path from 'node:path';

export * from 'node:fs';
export default fs;

function globToRegExp(pattern) {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else {
          re += '.*';
        }
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp('^' + re + '$');
}

export function globSync(pattern, options = {}) {
  const cwd = options.cwd ? String(options.cwd) : process.cwd();
  const patterns = Array.isArray(pattern) ? pattern : [pattern];
  const regexes = patterns.map(globToRegExp);
  const out = [];
  const walk = (rel) => {
    let entries;
    try {
      entries = fs.readdirSync(path.join(cwd, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (regexes.some((x) => x.test(r))) out.push(r.split('/').join(path.sep));
      if (e.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}
