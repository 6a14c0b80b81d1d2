// One file as a tar archive (POSIX ustar), the form the Docker engine takes files into a container in (putArchive).

const BLOCK = 512;

/** `value` as a NUL-terminated octal field of `width` bytes. */
function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/**
 * A tar archive holding the one regular file `name` (a plain name, no directories) with `text` as its content
 * and `mode` as its permissions, owned by root: what `docker cp` would send for it.
 */
export function tarOf(name: string, text: string, mode = 0o644): Buffer {
  if (!/^[A-Za-z0-9._-]{1,99}$/.test(name)) throw new Error(`tarOf: "${name}" is not a plain file name`);
  const body = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(BLOCK, 0);
  header.write(name, 0, 'ascii');
  header.write(octal(mode, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii'); // uid
  header.write(octal(0, 8), 116, 'ascii'); // gid
  header.write(octal(body.length, 12), 124, 'ascii');
  header.write(octal(0, 12), 136, 'ascii'); // mtime: fixed, so the same file gives the same archive
  header.write('0', 156, 'ascii'); // a regular file
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  // The checksum is the byte sum of the header with its own field taken as eight spaces.
  header.write(' '.repeat(8), 148, 'ascii');
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  const padding = Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK, 0);
  return Buffer.concat([header, body, padding, Buffer.alloc(2 * BLOCK, 0)]);
}
