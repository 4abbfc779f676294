/** The SDK as a browser bundle (esbuild, platform browser): what a web app ships. */
import { build, type Metafile } from "esbuild";

export const SDK_ENTRY = "client/index.ts";

/** iife: a script that defines `DynalogSDK` (the package's exports) as a global. */
export async function bundleSdk(format: "esm" | "iife", minify = false): Promise<{ code: string; metafile: Metafile }> {
  const result = await build({ entryPoints: [SDK_ENTRY], bundle: true, platform: "browser", format, globalName: format === "iife" ? "DynalogSDK" : undefined, write: false, metafile: true, logLevel: "silent", minify });
  return { code: result.outputFiles[0]!.text, metafile: result.metafile as Metafile };
}
