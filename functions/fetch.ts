/** Lambda entry point for the "fetch" routes (see shared/http/routes.ts). */
import { lambdaHandler } from "../shared/runtime/lambda.js";

export const handler = lambdaHandler("fetch");
