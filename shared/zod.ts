/**
 * The zod every Lambda-side schema is written with: zod 4's tree-shakable API (`zod/mini`), with
 * the English messages the classic API loads by itself (mini loads none: its issues would read
 * "Invalid input"). `import * as z` from here, not from "zod": the classic API cannot be tree-shaken
 * and was ~60 KB and ~30 ms of cold import in every function (docs/performance.md, bundles).
 * The validation rules and messages are zod's own in both APIs (same core).
 */
import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());

// Re-exported name by name (never as one `z` object, which would keep all of zod, every locale
// included): import it as `import * as z from ".../zod.js"`.
export * from "zod/mini";
