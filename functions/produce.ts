/** Lambda entry point for the "produce" routes (see shared/http/routes.ts); it imports only their modules and the core they call. */
import { produceCore, produceRoutes } from "../shared/http/function-routes/produce.js";
import { lambdaHandler } from "../shared/runtime/lambda.js";

export const handler = lambdaHandler("produce", produceRoutes, produceCore);
