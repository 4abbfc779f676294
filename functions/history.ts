/** Lambda entry point of the scheduled history sampler (see shared/runtime/history.ts); no HTTP routes. */
import { lambdaHistory } from "../shared/runtime/history.js";

export const handler = lambdaHistory();
