/** Renders the verification SMS from SMS_TEMPLATE_MOBILE_VERIFICATION (WSO2 placeholder names). */
export function renderVerificationSms(template: string, code: string, ttlSeconds: number): string {
  const minutes = String(Math.max(1, Math.round(ttlSeconds / 60)));
  return template
    .replaceAll('{{confirmation-code}}', code)
    .replaceAll('{{otpTokenString}}', code)
    .replaceAll('{{expiry-minutes}}', minutes)
    .replaceAll('{{verificationOtpExpiryTime}}', minutes);
}
