/** Lambda entry point for the "admin" routes (see shared/http/routes.ts). */
import { lambdaHandler } from "../shared/runtime/lambda.js";

export const handler = lambdaHandler("admin");
