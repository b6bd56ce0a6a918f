// The device class rule, shared by the SDK's page context and the Worker's edge pass. No imports
// but types: the SDK bundles this file, so zod must stay out of it.
import type { DeviceClass } from './events'

/** Phone, tablet or desktop, from the user agent first and the viewport width second. */
export function deviceClass(userAgent: string, width: number): DeviceClass {
  if (/iPad|Tablet|Android(?!.*Mobi)/i.test(userAgent)) return 'tablet'
  if (/Mobi|iPhone/i.test(userAgent) || width < 600) return 'mobile'
  return 'desktop'
}
