/** Lambda entry point for the "fetch" routes (see shared/http/routes.ts); it imports only their modules and the core they call. */
import { fetchCore, fetchRoutes } from "../shared/http/function-routes/fetch.js";
import { lambdaHandler } from "../shared/runtime/lambda.js";

export const handler = lambdaHandler("fetch", fetchRoutes, fetchCore);
