/** Lambda entry point for the "subscriptions" routes (see shared/http/routes.ts); it imports only their modules and the core they call. */
import { subscriptionRoutes, subscriptionsCore } from "../shared/http/function-routes/subscriptions.js";
import { lambdaHandler } from "../shared/runtime/lambda.js";
import { createWebhookGuard } from "../shared/runtime/webhook-guard.js";

// Only this function creates subscriptions, whose webhook targets the guard checks.
export const handler = lambdaHandler("subscriptions", subscriptionRoutes, subscriptionsCore, { webhookGuard: createWebhookGuard });
