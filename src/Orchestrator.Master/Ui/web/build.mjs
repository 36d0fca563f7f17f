// Bundles the dashboard into dist/: index.html, app-[hash].js (+ lazily loaded chunks: the terminal, the YAML
// editor), app-[hash].css, each also as .gz and .br. The master embeds dist/ and serves it at /ui/.
import * as esbuild from 'esbuild';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const out = 'dist';
rmSync(out, { recursive: true, force: true });
mkdirSync(out);

const result = await esbuild.build({
  entryPoints: { app: 'src/main.tsx' },
  bundle: true,
  splitting: true,
  format: 'esm',
  outdir: out,
  minify: true,
  target: ['chrome109', 'firefox115', 'safari16'],
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  assetNames: '[name]-[hash]',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
});

const entry = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint === 'src/main.tsx');
if (!entry) throw new Error('esbuild produced no entry output');
const name = (file) => file.slice(out.length + 1);
// the chunks the entry imports statically load with it, not one round trip after it
const preloads = entry[1].imports.filter((i) => i.kind === 'import-statement')
  .map((i) => `<link rel="modulepreload" href="${name(i.path)}">`).join('\n  ');
const page = readFileSync('src/index.html', 'utf8')
  .replace('%APP_JS%', name(entry[0]))
  .replace('%APP_CSS%', name(entry[1].cssBundle))
  .replace('%PRELOADS%', preloads);
writeFileSync(join(out, 'index.html'), page);

let total = 0;
for (const file of readdirSync(out)) {
  const content = readFileSync(join(out, file));
  total += content.length;
  if (content.length < 1024) continue;
  writeFileSync(join(out, file + '.gz'), gzipSync(content, { level: 9 }));
  writeFileSync(join(out, file + '.br'), brotliCompressSync(content, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: content.length },
  }));
}
console.log(`dashboard: ${readdirSync(out).filter((f) => !/\.(gz|br)$/.test(f)).length} files, ${Math.round(total / 1024)} KiB in ${out}/`);
