import { v7 } from 'uuid';

/** Time-ordered (UUIDv7) id: sorts by creation time, so indexes stay append-mostly. */
export function newId(): string {
  return v7();
}
