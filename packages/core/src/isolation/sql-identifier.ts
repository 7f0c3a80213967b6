import { InvalidArgumentError } from '../errors.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

/** User tables and columns named in countermeasures are spliced into SQL: only plain identifiers pass. */
export function sqlIdentifier(what: string, name: string): string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw new InvalidArgumentError(
      `${what} "${String(name)}" must be a plain SQL identifier (letters, digits, _; schema.table allowed)`,
    );
  }
  return name;
}
