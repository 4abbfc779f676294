import * as esbuild from "esbuild";
const r = await esbuild.build({ entryPoints: [`functions/fetch.ts`], bundle: true, platform: "node", format: "esm", target: "node22", minify: true, mainFields: ["module","main"], write: false, metafile: true, outfile: "/tmp/pk/out.mjs" });
const out = Object.values(r.metafile.outputs)[0];
let sum=0; for (const v of Object.values(out.inputs)) sum+=v.bytesInOutput; console.log("inputs sum", sum, "out", out.bytes);
const groups = {};
for (const [k, v] of Object.entries(out.inputs)) { if (!k.includes(process.argv[2])) continue; groups[k.replace(/.*node_modules\//,"")] = v.bytesInOutput; }
console.log(Object.entries(groups).sort((a,b)=>b[1]-a[1]).slice(0,12).map(([k,v])=>`${k} ${(v/1024).toFixed(1)}`).join("\n"));
