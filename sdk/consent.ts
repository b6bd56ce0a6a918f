// Consent: what tracking may do, from the site's mode (the tag's `data-consent`), the shopper's
// stored choice and the browser's privacy signal.
import type { ConsentMode } from '../contract'

/** A shopper's choice, kept on the device with its time. */
export interface ConsentChoice {
  tracking: boolean
  at: number
}
/** What tracking does now: `full` stores and sends, `anonymous` sends with a page-lifetime id and stores nothing, `off` does neither. */
export interface ConsentState {
  mode: ConsentMode
  level: 'full' | 'anonymous' | 'off'
  choice: ConsentChoice | null
  /** The browser's privacy signal, honoured unless the tag says `data-privacy-signals="ignore"`. */
  signal: 'gpc' | 'dnt' | null
}

/** The browser's privacy signal (Global Privacy Control first, then Do Not Track), unless the tag ignores it. */
export function privacySignal(ignore: boolean): ConsentState['signal'] {
  const privacy = navigator as Navigator & { globalPrivacyControl?: boolean }
  return ignore ? null : privacy.globalPrivacyControl ? 'gpc' : privacy.doNotTrack === '1' ? 'dnt' : null
}

/** What a choice (or none) allows under this site's mode and the browser's signal. */
export const levelFor = (
  mode: ConsentMode,
  signal: ConsentState['signal'],
  c: ConsentChoice | null,
): ConsentState['level'] =>
  c?.tracking
    ? 'full'
    : mode === 'anonymous-until-consent'
      ? 'anonymous'
      : c || signal || mode === 'no-tracking-until-consent'
        ? 'off'
        : 'full'
