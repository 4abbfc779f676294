import * as esbuild from "esbuild";
const fn = process.argv[2];
const r = await esbuild.build({ entryPoints: [`functions/${fn}.ts`], bundle: true, platform: "node", format: "esm", target: "node22", minify: true, mainFields: ["module","main"], write: false, metafile: true, outfile: "/tmp/pk/out.mjs" });
const out = Object.values(r.metafile.outputs)[0];
console.log(fn, out.bytes);
const groups = {};
for (const [k, v] of Object.entries(out.inputs)) { const m = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(k); const g = m ? m[1] : k.split("/").slice(0,2).join("/"); groups[g] = (groups[g]||0)+v.bytesInOutput; }
console.log(Object.entries(groups).sort((a,b)=>b[1]-a[1]).slice(0,25).map(([k,v])=>`${k} ${(v/1024).toFixed(1)}`).join("\n"));
