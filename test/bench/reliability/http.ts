// HTTP for the bad-input section: fetch for what it will send, a bare socket for what it will not.
import { connect } from 'node:net'
import type { ApiError } from '../../../contract'

const RAW_TIMEOUT_MS = 10_000

/** An HTTP answer, read whole. */
export interface Answer {
  status: number
  body: string
}

/** One fetch, status and body read whole. */
export async function request(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init)
  return { status: res.status, body: await res.text() }
}

/** One HTTP/1.1 exchange on a bare socket, for what fetch will not send (lying lengths, invalid UTF-8, no type). */
export function raw(url: string, head: string[], body: Buffer, halfClose = false): Promise<Answer> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname)
    const chunks: Buffer[] = []
    const done = () => {
      socket.destroy()
      resolve(parseAnswer(Buffer.concat(chunks)))
    }
    socket.setTimeout(RAW_TIMEOUT_MS, done)
    socket.on('data', (d: Buffer) => chunks.push(d))
    socket.on('close', done)
    // The server may answer and close before reading everything we wrote.
    socket.on('error', () => {})
    socket.write(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]))
    if (halfClose) socket.end()
  })
}

/** Status and body of the first response in `bytes` (status 0 when none came). */
function parseAnswer(bytes: Buffer): Answer {
  const split = bytes.indexOf('\r\n\r\n')
  if (split < 0) return { status: 0, body: '' }
  const head = bytes.subarray(0, split).toString('latin1')
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0)
  let body = bytes.subarray(split + 4)
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) body = dechunk(body)
  else {
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1]
    if (length) body = body.subarray(0, Number(length))
  }
  return { status, body: body.toString('utf8') }
}

function dechunk(bytes: Buffer): Buffer {
  const parts: Buffer[] = []
  for (let at = 0; at < bytes.length; ) {
    const eol = bytes.indexOf('\r\n', at)
    const size = parseInt(bytes.subarray(at, eol).toString('latin1'), 16)
    if (!(size > 0)) break
    parts.push(bytes.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
  return Buffer.concat(parts)
}

/** The `error` of a JSON error body, or null. */
export const errorOf = (a: Answer): string | null => {
  try {
    const body = JSON.parse(a.body) as ApiError
    return typeof body.error === 'string' ? body.error : null
  } catch {
    return null
  }
}

/** Request head of a raw POST /v1/events: `length` null sends the body chunked, `type` null sends none. */
export const rawHead = (url: string, length: number | null, type: string | null = 'text/plain') => [
  'POST /v1/events HTTP/1.1',
  `Host: ${new URL(url).host}`,
  `Origin: ${url}`,
  ...(type ? [`Content-Type: ${type}`] : []),
  length === null ? 'Transfer-Encoding: chunked' : `Content-Length: ${length}`,
  'Connection: close',
]
