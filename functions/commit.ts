/** Lambda entry point for the "commit" routes (see shared/http/routes.ts). */
import { lambdaHandler } from "../shared/runtime/lambda.js";

export const handler = lambdaHandler("commit");
