// Identity verification, the way Intercom's works: the site's backend signs each id it vouches for
// with the site's identity secret, HMAC-SHA256(secret, `${kind}:${value}`) in hex, and the page
// passes the signature on. HMAC needs the secret itself to check a signature, so a digest cannot
// stand in for it (a stored digest used as the key would forge as well as the secret): the secret
// is sealed with AES-GCM under the Worker secret IDENTITY_KEK, and D1 and KV hold only the seal.
import { HTTPException } from 'hono/http-exception'
import type { Identifier } from './link'
import { hex } from '../ids'

const encoder = new TextEncoder()
const fromHex = (text: string) => new Uint8Array((text.match(/../g) ?? []).map((b) => parseInt(b, 16)))

/** The text a site's backend signs for one id: `kind:value` (for e-mails, the SHA-256 hex of the address). */
export const signedText = (id: Identifier) => `${id.kind}:${id.value}`

/** The signature of one id under `secret`, as the site's backend computes it. */
export async function sign(secret: string, id: Identifier): Promise<string> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ])
  return hex(await crypto.subtle.sign('HMAC', key, encoder.encode(signedText(id))))
}

/** Whether `signature` (hex) is the signature of `id` under `secret`; compared in constant time by WebCrypto. */
export async function verify(secret: string, id: Identifier, signature: string): Promise<boolean> {
  if (!/^[0-9a-f]{64}$/i.test(signature)) return false
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'verify',
  ])
  return crypto.subtle.verify('HMAC', key, fromHex(signature.toLowerCase()), encoder.encode(signedText(id)))
}

/** The AES-GCM key made from IDENTITY_KEK (any string of 32+ characters); 503 when the Worker has none. */
async function sealingKey(kek: string | undefined): Promise<CryptoKey> {
  if (!kek || kek.length < 32) {
    throw new HTTPException(503, {
      message:
        'identity secrets need the Worker secret IDENTITY_KEK (32+ characters): wrangler secret put IDENTITY_KEK',
    })
  }
  const raw = await crypto.subtle.digest('SHA-256', encoder.encode(kek))
  return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt'])
}

/** `secret` sealed for storage: `v1:<iv hex>:<ciphertext hex>`, bound to the site it belongs to. */
export async function seal(kek: string | undefined, siteId: string, secret: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: encoder.encode(siteId) },
    await sealingKey(kek),
    encoder.encode(secret),
  )
  return `v1:${hex(iv)}:${hex(sealed)}`
}

/** The secret inside a seal; a seal copied to another site, or tampered with, does not open (500). */
export async function open(kek: string | undefined, siteId: string, sealed: string): Promise<string> {
  const [version, iv, data] = sealed.split(':')
  if (version !== 'v1' || !iv || !data) throw new Error(`site ${siteId}: unreadable identity secret`)
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: fromHex(iv), additionalData: encoder.encode(siteId) },
    await sealingKey(kek),
    fromHex(data),
  )
  return new TextDecoder().decode(plain)
}
