// Every body the SDK and the Worker exchange, with its ids and limits. The Worker validates with
// these zod schemas; the SDK imports only types from here (`import type`), so zod never reaches the
// tag. A value the SDK needs comes from a zod-free module directly (model.ts, recent.ts).
export * from './decide'
export * from './errors'
export * from './events'
export * from './identify'
export * from './ids'
export * from './model'
export * from './recent'
export * from './recommend'
