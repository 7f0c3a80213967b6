import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export interface Label {
  readonly labelId: string;
  readonly key: string;
  readonly voided: boolean;
}

type Row = { id: number; label_key: string; voided: number };
const toLabel = (r: Row): Label => ({
  labelId: `LBL-${String(r.id).padStart(6, '0')}`,
  key: r.label_key,
  voided: r.voided === 1,
});
const idOf = (labelId: string): number | undefined =>
  /^LBL-\d{1,12}$/.test(labelId) ? Number(labelId.slice(4)) : undefined;

/**
 * The carrier's own records, in a file of its own: as a real remote service, it keeps its
 * labels whatever happens to its callers. One label per caller-assigned key.
 */
export class LabelBook {
  private readonly db: Database.Database;

  constructor(filename: string) {
    mkdirSync(dirname(filename), { recursive: true });
    this.db = new Database(filename);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(
      `CREATE TABLE IF NOT EXISTS labels (id INTEGER PRIMARY KEY AUTOINCREMENT, label_key TEXT NOT NULL UNIQUE, ` +
        `voided INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL)`,
    );
  }

  /** The label of `key`, made now if the key is new: the same key always gives the same label. */
  createOrGet(key: string): Label {
    this.db
      .prepare('INSERT INTO labels (label_key, created_at) VALUES (?, ?) ON CONFLICT (label_key) DO NOTHING')
      .run(key, Date.now());
    return toLabel(
      this.db.prepare('SELECT id, label_key, voided FROM labels WHERE label_key = ?').get(key) as Row,
    );
  }

  /** Voids a label (again is fine); undefined when there is no such label. */
  void(labelId: string): Label | undefined {
    const id = idOf(labelId);
    if (id === undefined) return undefined;
    this.db.prepare('UPDATE labels SET voided = 1 WHERE id = ?').run(id);
    const row = this.db.prepare('SELECT id, label_key, voided FROM labels WHERE id = ?').get(id) as
      Row | undefined;
    return row ? toLabel(row) : undefined;
  }

  list(): Label[] {
    return (this.db.prepare('SELECT id, label_key, voided FROM labels ORDER BY id').all() as Row[]).map(
      toLabel,
    );
  }

  close(): void {
    this.db.close();
  }
}
