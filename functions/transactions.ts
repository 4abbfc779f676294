/** Lambda entry point for the "transactions" routes (see shared/http/routes.ts); it imports only their modules. */
import { transactionRoutes } from "../shared/http/function-routes/transactions.js";
import { lambdaHandler } from "../shared/runtime/lambda.js";

export const handler = lambdaHandler("transactions", transactionRoutes);
