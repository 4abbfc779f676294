/** Lambda entry point of the API-key HTTP API's authorizer (see shared/runtime/authorizer.ts). */
import { lambdaKeyAuthorizer } from "../shared/runtime/authorizer.js";

export const handler = lambdaKeyAuthorizer();
