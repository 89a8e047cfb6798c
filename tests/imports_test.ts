// The library imports nothing outside the runtime: only relative paths and `node:` built-ins.
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));

/**
 * Files allowed one non-runtime import, with the one specifier allowed. The optional Redis
 * adapter is its own entry point (never re-exported by `hub/mod.ts`), see docs/ARCHITECTURE.md.
 */
const EXCEPTIONS: Record<string, string> = {
  "lib/hub/redis_broker.ts": "npm:ioredis@5.11.1",
};

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* sourceFiles(path);
    else if (/\.(ts|js|mjs)$/.test(entry.name)) yield path;
  }
}

const SPECIFIER =
  /(?:import|export)[^"'`;]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|import\s+["']([^"']+)["']/g;

/**
 * Returns every module specifier a source file imports or re-exports. Whole-line `//`
 * comments are skipped: they may quote other languages (a WebAssembly text module's
 * `(import "kernel" "memory")`); JSDoc blocks are kept, so doc examples are checked too.
 */
export function specifiersOf(source: string): string[] {
  const out: string[] = [];
  source = source.replace(/^[ \t]*\/\/.*$/gm, "");
  for (const m of source.matchAll(SPECIFIER)) out.push((m[1] ?? m[2] ?? m[3])!);
  return out;
}

Deno.test("specifiersOf finds static, re-export, side-effect and dynamic imports", () => {
  const found = specifiersOf(
    `import a from "npm:ws";\nexport * from "./x.ts";\nimport "jsr:@std/foo";\nawait import("https://x");\n` +
      `  // (import "kernel" "memory")\nconst u = "https://y"; // import "npm:z"`,
  );
  assert.deepEqual(found, ["npm:ws", "./x.ts", "jsr:@std/foo", "https://x", "npm:z"]);
});

Deno.test("lib/ and mod.ts import only relative paths and node: built-ins", async () => {
  const files = [join(root, "mod.ts")];
  for await (const f of sourceFiles(join(root, "lib"))) files.push(f);
  const offenders: string[] = [];
  for (const file of files) {
    const rel = relative(root, file);
    for (const spec of specifiersOf(await Deno.readTextFile(file))) {
      if (spec === EXCEPTIONS[rel]) continue;
      if (!spec.startsWith("./") && !spec.startsWith("../") && !spec.startsWith("node:")) {
        offenders.push(`${rel}: ${spec}`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});
