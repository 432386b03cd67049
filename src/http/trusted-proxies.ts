import { isIP } from 'node:net';

/**
 * TRUST_PROXY: the proxies whose X-Forwarded-For is believed (addresses or CIDRs, comma-separated).
 * Unset: none, so `request.ip` is the TCP peer and a client cannot choose its own address for the
 * per-IP limits. Returns the list for Fastify's `trustProxy`, or false.
 */
export function trustedProxiesOf(setting: string | undefined): string[] | false {
  if (setting === undefined) return false;
  const entries = setting
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return entries.length === 0 ? false : entries;
}

/** The entry that is neither an IP address nor a CIDR, if any (for the start-up check). */
export function invalidProxyEntry(setting: string): string | undefined {
  const entries = trustedProxiesOf(setting);
  if (entries === false) return undefined;
  return entries.find((entry) => {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    if (family === 0 || extra !== undefined) return true;
    if (prefix === undefined) return false;
    const bits = Number(prefix);
    return !/^\d{1,3}$/.test(prefix) || bits > (family === 4 ? 32 : 128);
  });
}
