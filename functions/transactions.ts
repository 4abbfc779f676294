/** Lambda entry point for the "transactions" routes (see shared/http/routes.ts). */
import { lambdaHandler } from "../shared/runtime/lambda.js";

export const handler = lambdaHandler("transactions");
