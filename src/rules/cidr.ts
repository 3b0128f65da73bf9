/**
 * CIDR matching for the Sigma `cidr` modifier, IPv4 and IPv6. Addresses from records are parsed into
 * reused scratch buffers: no allocation per event.
 */
import { RuleCompileError } from "./errors.ts";

/** Parses dotted-quad IPv4 into an unsigned 32-bit number, or -1. */
export function parseIPv4(s: string, start = 0, end = s.length): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1; // leading zero: ambiguous (octal in some parsers)
      part = part * 10 + (c - 48);
      digits++;
      if (part > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || parts === 3) return -1;
      value = value * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  if (digits === 0 || parts !== 3) return -1;
  return value * 256 + part;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Parses IPv6 (with `::`, an IPv4 tail and an optional %zone) into `out` (8 groups). */
export function parseIPv6(s: string, out: Uint16Array): boolean {
  let end = s.indexOf("%");
  if (end < 0) end = s.length;
  let n = 0;
  let gap = -1;
  let i = 0;
  if (end >= 2 && s.charCodeAt(0) === 58 && s.charCodeAt(1) === 58) {
    gap = 0;
    i = 2;
    if (i === end) {
      out.fill(0);
      return true;
    }
  } else if (end > 0 && s.charCodeAt(0) === 58) {
    return false;
  }
  while (i < end) {
    if (n === 8) return false;
    let group = 0;
    let digits = 0;
    const groupStart = i;
    while (i < end) {
      const h = hexValue(s.charCodeAt(i));
      if (h < 0) break;
      group = group * 16 + h;
      digits++;
      i++;
      if (digits > 4) return false;
    }
    if (i < end && s.charCodeAt(i) === 46) {
      // IPv4 tail occupies the last two groups
      if (n > 6) return false;
      const v4 = parseIPv4(s, groupStart, end);
      if (v4 < 0) return false;
      out[n++] = Math.floor(v4 / 65536);
      out[n++] = v4 % 65536;
      i = end;
      break;
    }
    if (digits === 0) return false;
    out[n++] = group;
    if (i === end) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < end && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = n;
      i++;
      if (i === end) break;
    } else if (i === end) {
      return false;
    }
  }
  if (gap < 0) return n === 8;
  if (n > 7) return false;
  const tail = n - gap;
  for (let k = 0; k < tail; k++) out[7 - k] = out[n - 1 - k];
  for (let k = gap; k < 8 - tail; k++) out[k] = 0;
  return true;
}

const scratch = new Uint16Array(8);

/** A compiled CIDR test; true when `ip` (a string from a record) lies inside the network. */
export type CidrTest = (ip: string) => boolean;

export function compileCidr(cidr: string): CidrTest {
  const slash = cidr.indexOf("/");
  const addr = slash < 0 ? cidr : cidr.slice(0, slash);
  const v4 = parseIPv4(addr);
  const maxBits = v4 >= 0 ? 32 : 128;
  const bits = slash < 0 ? maxBits : Number(cidr.slice(slash + 1));
  if (!Number.isInteger(bits) || bits < 0 || bits > maxBits || (slash >= 0 && cidr.slice(slash + 1) === "")) {
    throw new RuleCompileError(`cidr: bad prefix length in ${JSON.stringify(cidr)}`);
  }
  if (v4 >= 0) {
    const size = 2 ** (32 - bits);
    const network = v4 - (v4 % size);
    return (ip) => {
      let a = parseIPv4(ip);
      if (a < 0) {
        // IPv4-mapped IPv6 (::ffff:a.b.c.d) is the same host
        if (!parseIPv6(ip, scratch)) return false;
        for (let k = 0; k < 5; k++) if (scratch[k] !== 0) return false;
        if (scratch[5] !== 0xffff) return false;
        a = scratch[6] * 65536 + scratch[7];
      }
      return a - (a % size) === network;
    };
  }
  const net = new Uint16Array(8);
  if (!parseIPv6(addr, net)) throw new RuleCompileError(`cidr: not an IP network: ${JSON.stringify(cidr)}`);
  const fullGroups = Math.floor(bits / 16);
  const restBits = bits % 16;
  const restMask = restBits === 0 ? 0 : (0xffff << (16 - restBits)) & 0xffff;
  return (ip) => {
    if (ip.indexOf(":") < 0 || !parseIPv6(ip, scratch)) return false;
    for (let k = 0; k < fullGroups; k++) if (scratch[k] !== net[k]) return false;
    if (restBits === 0) return true;
    return (scratch[fullGroups] & restMask) === (net[fullGroups] & restMask);
  };
}
