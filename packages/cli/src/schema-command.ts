// `splitnet schema`: prints the JSON Schema of the scenario language (for editors), or writes it to a file.
import { writeFileSync } from 'node:fs';
import { SplitnetError } from '@splitnet/model';
import { formatScenarioSchema } from '@splitnet/scenario';

export interface SchemaFlags {
  readonly out?: string;
}

/** The schema text on stdout, or in `--out`; returns where it went, for the command's message. */
export function schemaCommand(flags: SchemaFlags, stdout: (text: string) => void): string {
  const text = formatScenarioSchema();
  if (flags.out === undefined) {
    stdout(text);
    return 'stdout';
  }
  try {
    writeFileSync(flags.out, text);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const why = code === 'ENOENT' ? 'its directory does not exist' : code === 'EISDIR' ? 'is a directory' : 'cannot be written';
    throw new SplitnetError('E_FILE', `--out ${flags.out}: ${why}`, { cause: err });
  }
  return flags.out;
}
