/** Lambda entry point of the scheduled compactor (see shared/runtime/compactor.ts); no HTTP routes. */
import { lambdaCompactor } from "../shared/runtime/compactor.js";

export const handler = lambdaCompactor();
