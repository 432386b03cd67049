import type { AppError } from './app-error.js';

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** RFC 7644 section 3.12: `status` is a string. */
export function scimErrorBody(error: AppError): Record<string, unknown> {
  return {
    schemas: [SCIM_ERROR_SCHEMA],
    status: String(error.status),
    ...(error.scimType === undefined ? {} : { scimType: error.scimType }),
    detail: error.detail,
  };
}

/** WSO2's identity API envelope: {code, message, description, traceId}, or {message, traceId} where WSO2 sends that. */
export function identityErrorBody(error: AppError, traceId: string): Record<string, unknown> {
  if (error.identityMessageOnly) return { message: error.detail, traceId };
  return { code: error.identityCode, message: error.publicMessage, description: error.detail, traceId };
}
