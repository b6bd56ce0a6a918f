// Random ids and keys, and the hex they are written in.

/** Bytes as lowercase hex. */
export const hex = (bytes: ArrayBuffer | Uint8Array) =>
  [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('')

/** `prefix_` and `bytes` random bytes in hex: answer ids (12 bytes) and keys (24). */
export const randomId = (prefix: string, bytes = 12) =>
  `${prefix}_${hex(crypto.getRandomValues(new Uint8Array(bytes)))}`
