/** Lambda entry point for the "commit" routes (see shared/http/routes.ts); it imports only their modules. */
import { commitRoutes } from "../shared/http/function-routes/commit.js";
import { lambdaHandler } from "../shared/runtime/lambda.js";

export const handler = lambdaHandler("commit", commitRoutes);
