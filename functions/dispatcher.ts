/** Lambda entry point of the push-subscription dispatcher (see shared/runtime/dispatcher-lambda.ts); not an HTTP route function. */
import { lambdaDispatcher } from "../shared/runtime/dispatcher-lambda.js";

export const handler = lambdaDispatcher();
