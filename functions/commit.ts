/** Lambda entry point for the "commit" routes (see shared/http/routes.ts); it imports only their modules and the core they call. */
import { commitCore, commitRoutes } from "../shared/http/function-routes/commit.js";
import { lambdaHandler } from "../shared/runtime/lambda.js";

export const handler = lambdaHandler("commit", commitRoutes, commitCore);
