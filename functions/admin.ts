/** Lambda entry point for the "admin" routes (see shared/http/routes.ts); it imports only their modules and the core they call. */
import { adminCore, adminRoutes } from "../shared/http/function-routes/admin.js";
import { lambdaHandler } from "../shared/runtime/lambda.js";

export const handler = lambdaHandler("admin", adminRoutes, adminCore);
