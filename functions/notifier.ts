/** Lambda entry point of the log table stream's notifier (see shared/runtime/notify-lambda.ts). */
import { lambdaNotifier } from "../shared/runtime/notify-lambda.js";

export const handler = lambdaNotifier();
