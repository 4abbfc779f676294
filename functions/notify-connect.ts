/** Lambda entry point of the notification WebSocket API's routes (see shared/runtime/notify-lambda.ts). */
import { lambdaNotifyConnect } from "../shared/runtime/notify-lambda.js";

export const handler = lambdaNotifyConnect();
