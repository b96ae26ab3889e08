// A real SMTP server for the tests (smtp-server on 127.0.0.1) that keeps what it accepts,
// with a minimal MIME reader for what they assert on.
import { once } from 'node:events';
import { SMTPServer } from 'smtp-server';

function decodeWords(s) {
  return s.replace(/=\?utf-8\?([qb])\?([^?]*)\?=\s*/gi, (_, enc, text) =>
    enc.toLowerCase() === 'b' ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9a-f]{2})/gi, (m, h) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8')).trim();
}
function parseHeaders(head) {
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return headers;
}
function decodeBody(body, encoding = '7bit') {
  if (/base64/i.test(encoding)) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (/quoted-printable/i.test(encoding)) {
    return Buffer.from(body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (m, h) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
  }
  return body;
}
/** A minimal MIME reader: {headers, subject, messageId, text, html}. */
export function parseMail(raw) {
  const out = { text: null, html: null };
  const walk = (part) => {
    const cut = part.search(/\r?\n\r?\n/);
    const headers = parseHeaders(part.slice(0, cut));
    const body = part.slice(cut).replace(/^\r?\n\r?\n/, '');
    const type = headers['content-type'] ?? 'text/plain';
    const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
    if (boundary) {
      for (const p of body.split(`--${boundary}`).slice(1)) if (!p.startsWith('--')) walk(p.replace(/^\r?\n/, ''));
    } else if (/text\/html/i.test(type)) out.html = decodeBody(body, headers['content-transfer-encoding']);
    else if (/text\/plain/i.test(type)) out.text = decodeBody(body, headers['content-transfer-encoding']);
    return headers;
  };
  const headers = walk(raw);
  return { ...out, headers, subject: decodeWords(headers.subject ?? ''), messageId: headers['message-id'], to: headers.to };
}

/**
 * Accepts mail on 127.0.0.1. `onMessage(mail)` may return a promise (the reply waits: a
 * message is accepted only when it resolves) or throw (the message is rejected).
 */
export async function smtpSink({ onMessage } = {}) {
  const accepted = [];
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false,
    onData(stream, session, callback) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', async () => {
        const mail = { ...parseMail(Buffer.concat(chunks).toString('utf8')), envelope: session.envelope.rcptTo.map((r) => r.address) };
        try {
          await onMessage?.(mail);
          accepted.push(mail);
          callback();
        } catch (err) {
          callback(err);
        }
      });
    },
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  const { port } = server.server.address();
  return { url: `smtp://127.0.0.1:${port}`, accepted, close: () => new Promise((r) => server.close(r)) };
}
