// Packs the browser bundle for serving: every file gets a content-hashed name
// (hookline-<hash>.js, hookline-<hash>_bg.wasm, hookline-<hash>.css) and, beside it, a
// brotli (.br) and a gzip (.gz) copy made here, at build time, so the server only picks one.
// pkg/manifest.json names the current files and their sizes; the server reads it at start.
//
// Usage: node scripts/pack-site.mjs [--fast] <stage dir> <pkg dir>
// --fast (the debug site) compresses at brotli 5 and gzip 6 instead of 11 and 9: the debug
// wasm is ~28 MB, which brotli 11 takes ~40 s over; a release wasm takes a few seconds.
// A file whose hashed name already exists is not compressed again, so an unchanged bundle
// packs in milliseconds. Files of the previous manifest are kept (a browser that loaded the
// old page can still fetch them during a restart); older hashed files are removed.
// Every file is written under a temporary name and renamed, so a running server never
// serves half a file.
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  mkdirSync,
} from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const args = process.argv.slice(2);
const fast = args[0] === "--fast";
const [stage, pkg] = fast ? args.slice(1) : args;
if (!stage || !pkg) {
  console.error("usage: node scripts/pack-site.mjs [--fast] <stage dir> <pkg dir>");
  process.exit(2);
}
mkdirSync(pkg, { recursive: true });

// The JS glue and the wasm are one unit (wasm-bindgen writes the glue for that wasm), so
// they share one hash, of both: Leptos names them `<output_name>.js` and
// `<output_name>_bg.wasm`, and the manifest's output_name is `hookline-<hash>`.
const HASHED = /^hookline-[0-9a-f]{16}(\.js|_bg\.wasm|\.css)(\.br|\.gz)?$/;
const digest = (...parts) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex").slice(0, 16);
};

function writeAtomically(path, bytes) {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

function readManifest() {
  try {
    return JSON.parse(readFileSync(join(pkg, "manifest.json"), "utf8"));
  } catch {
    return null;
  }
}

// Writes <file> with its .br and .gz copies unless all three are there already (a hashed
// name's content never changes), and answers its manifest entry.
function pack(file, bytes, mode) {
  const path = join(pkg, file);
  if (!existsSync(path) || !existsSync(`${path}.br`) || !existsSync(`${path}.gz`)) {
    writeAtomically(`${path}.br`, brotliCompressSync(bytes, {
      params: {
        [constants.BROTLI_PARAM_MODE]: mode,
        [constants.BROTLI_PARAM_QUALITY]: fast ? 5 : constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    }));
    writeAtomically(`${path}.gz`, gzipSync(bytes, { level: fast ? 6 : 9 }));
    writeAtomically(path, bytes);
  }
  return {
    file,
    bytes: bytes.length,
    gzip_bytes: readFileSync(`${path}.gz`).length,
    brotli_bytes: readFileSync(`${path}.br`).length,
  };
}

const previous = readManifest();
const js = readFileSync(join(stage, "hookline.js"));
const wasm = readFileSync(join(stage, "hookline_bg.wasm"));
const css = readFileSync(join(stage, "hookline.css"));
const outputName = `hookline-${digest(js, wasm)}`;
const manifest = {
  output_name: outputName,
  js: pack(`${outputName}.js`, js, constants.BROTLI_MODE_TEXT),
  wasm: pack(`${outputName}_bg.wasm`, wasm, constants.BROTLI_MODE_GENERIC),
  css: pack(`hookline-${digest(css)}.css`, css, constants.BROTLI_MODE_TEXT),
};

// wasm-bindgen's inline JS, imported relative to the glue: served as is, revalidated.
const snippets = join(stage, "snippets");
if (existsSync(snippets)) {
  cpSync(snippets, join(pkg, "snippets"), { recursive: true });
}

writeAtomically(join(pkg, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");

const keep = new Set();
for (const m of [manifest, previous]) {
  for (const key of ["js", "wasm", "css"]) {
    const file = m?.[key]?.file;
    if (typeof file === "string") {
      keep.add(file).add(`${file}.br`).add(`${file}.gz`);
    }
  }
}
for (const name of readdirSync(pkg)) {
  const unhashed = ["hookline.js", "hookline_bg.wasm", "hookline.css"].includes(name);
  if ((HASHED.test(name) && !keep.has(name)) || unhashed) {
    rmSync(join(pkg, name), { force: true });
  }
}

const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
const w = manifest.wasm;
console.error(
  `[pack-site] ${w.file}: ${kib(w.bytes)}, gzip ${kib(w.gzip_bytes)}, brotli ${kib(w.brotli_bytes)}`,
);
