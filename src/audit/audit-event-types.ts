// No imports: the Console bundles this list too, so its audit filter offers exactly the server's event types.
/** Every event of the verification flow, and account locks. Codes and secrets never appear in an event. */
export const AUDIT_EVENT_TYPES = [
  'VERIFICATION_STARTED',
  'CODE_SENT',
  'DELIVERY_FAILED',
  'DELIVERY_EXPIRED',
  'CODE_RESENT',
  'WRONG_CODE',
  'CODE_LOCKED',
  'VERIFIED',
  'CODE_EXPIRED',
  'VERIFICATION_SKIPPED',
  'PRIVILEGED_BYPASS',
  'VERIFICATION_CANCELLED',
  'PHONE_VERIFIED_SET',
  'ACCOUNT_LOCKED',
] as const;
