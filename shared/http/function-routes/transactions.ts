/** The transactions function's route module. */
import type { RouteHandlers } from "../compose.js";
import { transactionHandlers } from "../transaction-routes.js";

export const transactionRoutes: readonly RouteHandlers[] = [transactionHandlers];
