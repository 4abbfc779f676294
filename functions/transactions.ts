/** Lambda entry point for the "transactions" routes (see shared/http/routes.ts); it imports only their modules and the core they call. */
import { transactionsCore, transactionRoutes } from "../shared/http/function-routes/transactions.js";
import { lambdaHandler } from "../shared/runtime/lambda.js";

export const handler = lambdaHandler("transactions", transactionRoutes, transactionsCore);
