// winston loggers for entry points: JSON lines to a per-process file, concise lines on the console.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import winston from 'winston';
import type { Logger, LogMeta } from '@splitnet/model';

export interface LoggerOptions {
  /** Who is logging (e.g. `worker.2`, `controller`). */
  readonly name: string;
  /** JSON log file (created with its directory); none: no file. */
  readonly file?: string;
  /** Console level; 'silent' for none. */
  readonly consoleLevel?: 'error' | 'warn' | 'info' | 'debug' | 'silent';
}

/** A winston logger behind the project's Logger port. */
export function createLogger(o: LoggerOptions): Logger & { close(): Promise<void> } {
  const transports: winston.transport[] = [];
  if (o.file) {
    mkdirSync(dirname(o.file), { recursive: true });
    transports.push(
      new winston.transports.File({ filename: o.file, level: 'debug', format: winston.format.combine(winston.format.timestamp(), winston.format.json()) }),
    );
  }
  if (o.consoleLevel !== 'silent') {
    transports.push(
      new winston.transports.Console({
        level: o.consoleLevel ?? 'warn',
        stderrLevels: ['error', 'warn', 'info', 'debug'],
        format: winston.format.printf((info) => {
          const { level, message, ...rest } = info as { level: string; message: string } & Record<string, unknown>;
          const extra = Object.keys(rest).length > 0 ? ' ' + JSON.stringify(rest) : '';
          return `${o.name}: ${level}: ${message}${extra}`;
        }),
      }),
    );
  }
  const w = winston.createLogger({ defaultMeta: { actor: o.name }, transports });
  const at = (level: string) => (msg: string, meta?: LogMeta) => {
    w.log(level, msg, meta ?? {});
  };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    close: () =>
      new Promise<void>((resolve) => {
        if (transports.length === 0) return resolve();
        w.on('finish', () => resolve());
        w.end();
        setTimeout(resolve, 500).unref();
      }),
  };
}
