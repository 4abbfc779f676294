/** The CLI's exit codes (documented at the top of cli/main.ts). */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, auth: 4, notFound: 5 } as const;
